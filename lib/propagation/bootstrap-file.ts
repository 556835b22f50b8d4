import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { SnapshotData } from '../core/changes';

/** The format marker of a bootstrap file. */
export const BOOTSTRAP_FORMAT = 'nestjs-feature-flags/bootstrap@1';

/** An export of every flag, environment, override and segment, to start from when the store is down. */
export interface BootstrapData extends SnapshotData {
  format: typeof BOOTSTRAP_FORMAT;
  exportedAt: string;
}

/** Wraps snapshot data as a bootstrap export. */
export function toBootstrap(data: SnapshotData): BootstrapData {
  return { format: BOOTSTRAP_FORMAT, exportedAt: new Date().toISOString(), ...data };
}

/** Writes a bootstrap file atomically (a reader never sees half a file). */
export async function writeBootstrapFile(path: string, data: SnapshotData): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(toBootstrap(data)));
  await rename(tmp, path);
}

/**
 * Keeps a bootstrap file following the snapshot: `schedule()` after every applied change writes the file
 * (atomically) once changes pause for `delayMs`, and at least every `maxDelayMs` while they keep coming.
 * Writes never overlap; `flush()` writes what is pending now (at shutdown).
 */
export class BootstrapFileWriter {
  private timer: NodeJS.Timeout | undefined;
  private firstPending: number | undefined;
  private running: Promise<void> = Promise.resolve();
  /** How many times the file was written. */
  writes = 0;

  constructor(
    private readonly path: string,
    private readonly data: () => SnapshotData,
    private readonly onError: (error: Error) => void,
    private readonly delayMs = 50,
    private readonly maxDelayMs = 500,
  ) {}

  /** Asks for a write soon. */
  schedule(): void {
    const now = Date.now();
    this.firstPending ??= now;
    clearTimeout(this.timer);
    const wait = Math.max(0, Math.min(this.delayMs, this.firstPending + this.maxDelayMs - now));
    this.timer = setTimeout(() => void this.flush(), wait);
    this.timer.unref();
  }

  /** Writes now if a write is pending; resolves once the file is on disk. */
  flush(): Promise<void> {
    if (this.firstPending === undefined) return this.running;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.firstPending = undefined;
    this.running = this.running.then(async () => {
      try {
        await writeBootstrapFile(this.path, this.data());
        this.writes++;
      } catch (e) {
        this.onError(e as Error);
      }
    });
    return this.running;
  }

  /** Stops scheduled writes (after a last `flush()`). */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

const DATE_FIELDS = new Set(['createdAt', 'updatedAt']);

/**
 * Reads a bootstrap file.
 * @throws Error naming the file and what is wrong with it.
 */
export async function readBootstrapFile(path: string): Promise<BootstrapData> {
  const text = await readFile(path, 'utf8');
  let data: BootstrapData;
  try {
    data = JSON.parse(text, (key, value) =>
      DATE_FIELDS.has(key) && typeof value === 'string' ? new Date(value) : value,
    ) as BootstrapData;
  } catch (e) {
    throw new Error(`Bootstrap file ${path} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
  if (data?.format !== BOOTSTRAP_FORMAT)
    throw new Error(
      `Bootstrap file ${path} is not a feature-flags export (format "${String(data?.format)}", expected "${BOOTSTRAP_FORMAT}").`,
    );
  // Files written by an earlier version name the overrides `environmentFlags`.
  const legacy = data as BootstrapData & { environmentFlags?: BootstrapData['overrides'] };
  if (legacy.overrides === undefined && legacy.environmentFlags !== undefined) {
    legacy.overrides = legacy.environmentFlags;
    delete legacy.environmentFlags;
  }
  for (const field of ['environments', 'flags', 'overrides', 'segments'] as const) {
    if (!Array.isArray(data[field])) throw new Error(`Bootstrap file ${path} has no "${field}" list.`);
  }
  return data;
}
