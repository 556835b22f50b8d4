import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { filter, Observable, Subject } from 'rxjs';
import { AuditEvent } from './storage/records';
import { FeatureFlagStorage } from './storage/feature-flag-storage.interface';

/**
 * The audit events of applied changes, in process, once they are committed: every write through storage
 * (the admin API, your code, declared environments at boot) — for cache busting, notifications, metrics.
 * Each event is the one `GET /api/admin/events` lists. A listener's error is logged, never rethrown.
 *
 * @example
 * constructor(events: FeatureFlagEvents) {
 *   events.subscribe((e) => { if (e.type === 'flag-environment-disabled') alerts.notify(e); });
 *   events.ofType('flag-promoted').subscribe((e) => slack.post(`${e.actor} promoted ${e.flagKey}`));
 * }
 */
@Injectable()
export class FeatureFlagEvents implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly subject = new Subject<AuditEvent>();
  private readonly logger = new Logger('FeatureFlagEvents');
  private unsubscribe: (() => void) | undefined;

  /** Every event, as an Observable. */
  readonly events$: Observable<AuditEvent> = this.subject.asObservable();

  constructor(@Inject(FeatureFlagStorage) private readonly storage: FeatureFlagStorage) {}

  /** Calls `listener` with each event; returns a function that stops it. */
  subscribe(listener: (event: AuditEvent) => void): () => void {
    const subscription = this.subject.subscribe((event) => {
      try {
        listener(event);
      } catch (e) {
        this.logger.error(`A FeatureFlagEvents listener failed on ${event.type}: ${(e as Error)?.stack ?? e}`);
      }
    });
    return () => subscription.unsubscribe();
  }

  /** The events of some types. */
  ofType(...types: string[]): Observable<AuditEvent> {
    return this.events$.pipe(filter((e) => types.includes(e.type)));
  }

  /** Subscribes to storage once it is initialized (SnapshotSync initializes it on module init). */
  onApplicationBootstrap(): void {
    if (this.unsubscribe) return;
    if (typeof this.storage.subscribeEvents !== 'function') {
      this.logger.warn(
        'The feature-flag storage does not report audit events (subscribeEvents): FeatureFlagEvents stays silent.',
      );
      return;
    }
    this.unsubscribe = this.storage.subscribeEvents((event) => this.subject.next(event));
  }

  onApplicationShutdown(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }
}
