/**
 * A transport that carries change notices between the instances of an app. Delivery is best effort:
 * a lost notice is caught by the periodic revision check.
 */
export interface ChangeBus {
  /** `redis` or `postgres`. */
  readonly name: string;
  /** The largest payload the transport carries. */
  readonly maxPayloadBytes: number;
  /** Connects and starts delivering payloads published by any instance (its own included). */
  start(onPayload: (payload: string) => void): Promise<void>;
  /** Publishes a payload to every instance. */
  publish(payload: string): Promise<void>;
  /** Whether the transport is connected now. */
  isConnected(): boolean;
  close(): Promise<void>;
}
