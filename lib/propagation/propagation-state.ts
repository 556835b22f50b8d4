/** The transport of change notices and whether it is connected. */
export interface PropagationState {
  transport: string;
  connected: boolean;
}
