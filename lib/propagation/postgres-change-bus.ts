import type { Client, ClientConfig } from 'pg';
import { ChangeBus } from './change-bus.interface';
import { requirePeer } from '../optional-peers';

/**
 * How the listening connection reaches PostgreSQL (the part of pg's ClientConfig this library fills in;
 * declared here so that the type declarations need no @types/pg).
 */
export interface PostgresClientConfig {
  connectionString?: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
  ssl?: boolean | Record<string, unknown>;
}

/**
 * Change notices over PostgreSQL LISTEN/NOTIFY: a dedicated listening connection per instance, which
 * reconnects (and re-listens) by itself when the database comes back.
 */
export class PostgresChangeBus implements ChangeBus {
  readonly name = 'postgres';
  /** NOTIFY payloads are limited to 8000 bytes; larger changes travel as references. */
  readonly maxPayloadBytes = 7900;
  private listener: Client | undefined;
  private publisher: Client | undefined;
  private onPayload: ((payload: string) => void) | undefined;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private publishing: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly config: PostgresClientConfig,
    private readonly channel: string,
  ) {}

  async start(onPayload: (payload: string) => void): Promise<void> {
    this.onPayload = onPayload;
    this.closed = false;
    try {
      await this.connectListener();
    } catch (e) {
      // Keep trying in the background; the caller logs the failure.
      this.scheduleReconnect();
      throw e;
    }
  }

  /**
   * Publishes in order, one at a time on the publishing connection: concurrent writes would otherwise
   * each open a connection of their own while the first connects, and queue queries on a busy client.
   */
  publish(payload: string): Promise<void> {
    const sent = this.publishing.then(() => this.send(payload));
    this.publishing = sent.catch(() => undefined);
    return sent;
  }

  /** Sends one notice; once the bus is closed, what is still queued is dropped (and no connection opened). */
  private async send(payload: string): Promise<void> {
    if (this.closed) return;
    let publisher = this.publisher;
    if (!publisher) {
      publisher = await this.connect(false);
      if (this.closed) {
        await publisher.end().catch(() => undefined);
        return;
      }
      this.publisher = publisher;
    }
    try {
      await publisher.query('SELECT pg_notify($1, $2)', [this.channel, payload]);
    } catch (e) {
      if (this.publisher === publisher) this.publisher = undefined;
      publisher.end().catch(() => undefined);
      if (!this.closed) throw e;
    }
  }

  isConnected(): boolean {
    return this.listener !== undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    const clients = [this.listener, this.publisher];
    this.listener = undefined;
    this.publisher = undefined;
    await Promise.all(clients.map((c) => c?.end().catch(() => undefined)));
  }

  private async connect(listen: boolean): Promise<Client> {
    const { Client: PgClient } = requirePeer<typeof import('pg')>(
      'pg',
      'propagation',
      'Changes over PostgreSQL LISTEN/NOTIFY',
    );
    const client = new PgClient({ connectionTimeoutMillis: 2000, ...(this.config as ClientConfig) });
    client.on('error', () => {
      if (listen) this.listenerLost(client);
    });
    await client.connect();
    if (listen) {
      client.on('notification', (msg) => {
        if (msg.channel === this.channel && msg.payload !== undefined) this.onPayload?.(msg.payload);
      });
      client.on('end', () => this.listenerLost(client));
      await client.query(`LISTEN "${this.channel.replace(/"/g, '""')}"`);
    }
    return client;
  }

  private async connectListener(): Promise<void> {
    this.listener = await this.connect(true);
  }

  private listenerLost(client: Client): void {
    if (this.listener !== client) return;
    this.listener = undefined;
    client.end().catch(() => undefined);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      this.connectListener().catch(() => this.scheduleReconnect());
    }, 500);
    this.reconnectTimer.unref();
  }
}
