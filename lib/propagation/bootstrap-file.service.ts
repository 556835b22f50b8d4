import { Inject, Injectable, Logger } from '@nestjs/common';
import { SnapshotData } from '../core/changes';
import { FEATURE_FLAGS_OPTIONS } from '../feature-flags.internal-constants';
import { ResolvedFeatureFlagsOptions } from '../feature-flags.options';
import { BootstrapData, BootstrapFileWriter, readBootstrapFile } from './bootstrap-file';

/**
 * The `bootstrapFile` option: read at boot when the store is unreachable, and rewritten after every change
 * with `writeBootstrapFile`.
 */
@Injectable()
export class BootstrapFileService {
  private readonly logger = new Logger('FeatureFlags');
  private writer: BootstrapFileWriter | undefined;

  constructor(@Inject(FEATURE_FLAGS_OPTIONS) private readonly options: ResolvedFeatureFlagsOptions) {}

  /** Starts keeping the file equal to `exportData()` (when the options ask for it). */
  startWriting(exportData: () => SnapshotData): void {
    if (!this.options.writeBootstrapFile || !this.options.bootstrapFile) return;
    this.writer = new BootstrapFileWriter(this.options.bootstrapFile, exportData, (e) =>
      this.logger.warn(`Could not write the bootstrap file: ${e.message}`),
    );
  }

  /** Rewrites the file soon (after a change). */
  schedule(): void {
    this.writer?.schedule();
  }

  /** The file's content, or undefined when there is no file or it cannot be read (logged). */
  async read(): Promise<BootstrapData | undefined> {
    const file = this.options.bootstrapFile;
    if (!file) return undefined;
    try {
      return await readBootstrapFile(file);
    } catch (e) {
      this.logger.error(`The store is unreachable and the bootstrap file could not be read: ${(e as Error).message}`);
      return undefined;
    }
  }

  /** Writes what is pending and stops. */
  async close(): Promise<void> {
    await this.writer?.flush();
    this.writer?.stop();
  }
}
