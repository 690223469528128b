import type { StackConfig } from '../config.js';
import type { LaunchSpec } from '../processes.js';

/** What a server's install recipe left in the cache (a binary, an install directory). */
export interface Installed {
  readonly path: string;
}

export interface PortUse {
  readonly port: number;
  readonly variable: string;
}

/** One backing server of the local stack: how to install, configure, start, probe and stop it. */
export interface Server {
  readonly name: string;
  /** The port clients use, shown by `status`. */
  port(config: StackConfig): number;
  /** Every TCP port it listens on, with the variable that moves it: each must be free before it starts. */
  ports(config: StackConfig): readonly PortUse[];
  /** The UDP ports it binds, with the variables that move them (a private stack moves these too). */
  udpPorts?(config: StackConfig): readonly PortUse[];
  install(config: StackConfig): Promise<Installed>;
  /** Creates its data directory and configuration on first use; returns how to start it. */
  prepare(config: StackConfig, installed: Installed, dir: string): Promise<Omit<LaunchSpec, 'logFile'>>;
  ready(config: StackConfig): Promise<boolean>;
  version(config: StackConfig): Promise<string | undefined>;
  /** The signal that makes it shut down cleanly and quickly. */
  readonly stopSignal: NodeJS.Signals;
  readonly startTimeoutMs: number;
}
