import { ChangeRevision } from '../core/changes';

/**
 * Which store revision the snapshot matches. Stores that number their commits (`<epoch>:<n>`) are
 * followed commit by commit, parts included; for the others, the revision last read and whether a change
 * was applied since.
 */
export class AppliedRevisions {
  /** The store revision the snapshot was last known to match. */
  private revision: string | undefined;
  /** Stores that number their commits: the last commit every change of which this instance applied. */
  private sequence: { epoch: string; n: number } | undefined;
  /** Commits applied in part or out of order: `<epoch>:<n>` → the parts seen. */
  private readonly partial = new Map<string, { parts: number; seen: Set<number> }>();
  /** A change was applied whose revision this instance cannot know (the next check reloads). */
  private untracked = false;

  /** Starts over from a full load at `revision`. */
  loaded(revision: string | undefined): void {
    this.revision = revision;
    this.untracked = false;
    const numbered = revision === undefined ? null : /^(.*):(\d+)$/.exec(revision);
    this.sequence = numbered ? { epoch: numbered[1], n: Number(numbered[2]) } : undefined;
  }

  /** The store was found at `revision` with nothing missed. */
  confirmed(revision: string): void {
    this.revision = revision;
  }

  /** Records that a change was applied (with where it left the store, when known). */
  applied(revision: ChangeRevision | undefined): void {
    if (!revision) {
      this.untracked = true;
      return;
    }
    const key = `${revision.epoch}:${revision.n}`;
    let seen = this.partial.get(key);
    if (!seen) {
      seen = { parts: revision.parts, seen: new Set() };
      this.partial.set(key, seen);
    }
    seen.seen.add(revision.part);
    this.advance();
  }

  /**
   * Whether every commit up to `revision` was applied (stores that number their commits), or nothing was
   * applied since `revision` was last read.
   */
  isAt(revision: string): boolean {
    if (this.sequence) return `${this.sequence.epoch}:${this.sequence.n}` === revision;
    return !this.untracked && revision === this.revision;
  }

  /**
   * Whether the snapshot has reached `revision`: every commit up to it applied (stores that number their
   * commits: the snapshot may be further on), or, as `isAt`, nothing applied since it was last read.
   */
  covers(revision: string): boolean {
    const seq = this.sequence;
    if (!seq) return this.isAt(revision);
    const m = /^(.*):(\d+)$/.exec(revision);
    return m !== null && m[1] === seq.epoch && seq.n >= Number(m[2]);
  }

  /** Moves the known sequence over every commit applied in full. */
  advance(): void {
    const seq = this.sequence;
    if (!seq) return;
    for (;;) {
      const key = `${seq.epoch}:${seq.n + 1}`;
      const next = this.partial.get(key);
      if (!next || next.seen.size < next.parts) break;
      this.partial.delete(key);
      seq.n++;
    }
    for (const key of this.partial.keys()) {
      const m = /^(.*):(\d+)$/.exec(key)!;
      if (m[1] !== seq.epoch || Number(m[2]) <= seq.n) this.partial.delete(key);
    }
  }
}
