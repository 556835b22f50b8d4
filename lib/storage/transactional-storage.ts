import { ChangeRequest, Environment, EnvironmentFlag, Flag, Segment } from './records';
import { decidedChangeRequest, resolveDecision } from './admin-records';
import {
  AuditEventInput,
  ResolvedWriteContext,
  copyChangeRequest,
  assertWrites,
  auditEvent,
  changeRequestSubject,
  decisionContext,
  mergeWriteContexts,
  resolveWriteContext,
} from './audit';
import { ChangeRequestApproval, ChangeRequestDecision } from './feature-flag-admin-storage.interface';
import {
  EnvironmentFlagInput,
  EnvironmentFlagRef,
  EnvironmentFlagUpdate,
  EnvironmentInput,
  EnvironmentUpdate,
  FlagInput,
  FlagUpdate,
  SegmentInput,
  SegmentUpdate,
  StorageWrite,
  StorageWriteResult,
  WriteContext,
} from './feature-flag-storage.interface';

/** A backend's transaction: what the shared operations need of it. */
export interface StorageTransaction {
  /** Records the write's audit event in the transaction (reported to listeners after commit). */
  audit(event: AuditEventInput): void | Promise<void>;
}

/**
 * What the backends with real transactions (TypeORM, Redis) share: batches, and approving or rejecting
 * change requests, built on the per-operation writers each backend implements inside its transaction
 * (`…In`). A backend provides the transaction (`write`), the writers, and how a change request is read
 * and saved.
 */
export abstract class TransactionalStorage<Tx extends StorageTransaction> {
  /** Runs `work` in one transaction: everything it writes commits together, or nothing does. */
  protected abstract write<T>(work: (tx: Tx) => Promise<T>): Promise<T>;

  protected abstract createEnvironmentIn(tx: Tx, input: EnvironmentInput, ctx: ResolvedWriteContext): Promise<Environment>;
  protected abstract updateEnvironmentIn(tx: Tx, update: EnvironmentUpdate, ctx: ResolvedWriteContext): Promise<Environment>;
  protected abstract deleteEnvironmentIn(tx: Tx, slug: string, ctx: ResolvedWriteContext): Promise<boolean>;
  protected abstract createFlagIn(tx: Tx, input: FlagInput, ctx: ResolvedWriteContext): Promise<Flag>;
  protected abstract updateFlagIn(tx: Tx, update: FlagUpdate, ctx: ResolvedWriteContext): Promise<Flag>;
  protected abstract deleteFlagIn(tx: Tx, key: string, ctx: ResolvedWriteContext): Promise<boolean>;
  protected abstract createEnvironmentFlagIn(tx: Tx, input: EnvironmentFlagInput, ctx: ResolvedWriteContext): Promise<EnvironmentFlag>;
  protected abstract updateEnvironmentFlagIn(tx: Tx, update: EnvironmentFlagUpdate, ctx: ResolvedWriteContext): Promise<EnvironmentFlag>;
  protected abstract deleteEnvironmentFlagIn(tx: Tx, ref: EnvironmentFlagRef, ctx: ResolvedWriteContext): Promise<boolean>;
  protected abstract createSegmentIn(tx: Tx, input: SegmentInput, ctx: ResolvedWriteContext): Promise<Segment>;
  protected abstract updateSegmentIn(tx: Tx, update: SegmentUpdate, ctx: ResolvedWriteContext): Promise<Segment>;
  protected abstract deleteSegmentIn(tx: Tx, key: string, ctx: ResolvedWriteContext): Promise<boolean>;

  /** The pending change request `id` (at `version`, when given), read for update. */
  protected abstract pendingRequest(tx: Tx, id: string, version: number | undefined): Promise<ChangeRequest>;
  /** Saves a decided change request over the pending one it was read as. */
  protected abstract saveChangeRequest(tx: Tx, pending: ChangeRequest, decided: ChangeRequest): Promise<void> | void;

  async createEnvironment(input: EnvironmentInput, context?: WriteContext): Promise<Environment> {
    return this.write((tx) => this.createEnvironmentIn(tx, input, resolveWriteContext(context)));
  }

  async updateEnvironment(update: EnvironmentUpdate, context?: WriteContext): Promise<Environment> {
    return this.write((tx) => this.updateEnvironmentIn(tx, update, resolveWriteContext(context)));
  }

  async deleteEnvironment(slug: string, context?: WriteContext): Promise<boolean> {
    return this.write((tx) => this.deleteEnvironmentIn(tx, slug, resolveWriteContext(context)));
  }

  async createFlag(input: FlagInput, context?: WriteContext): Promise<Flag> {
    return this.write((tx) => this.createFlagIn(tx, input, resolveWriteContext(context)));
  }

  async updateFlag(update: FlagUpdate, context?: WriteContext): Promise<Flag> {
    return this.write((tx) => this.updateFlagIn(tx, update, resolveWriteContext(context)));
  }

  async createEnvironmentFlag(input: EnvironmentFlagInput, context?: WriteContext): Promise<EnvironmentFlag> {
    return this.write((tx) => this.createEnvironmentFlagIn(tx, input, resolveWriteContext(context)));
  }

  async updateEnvironmentFlag(update: EnvironmentFlagUpdate, context?: WriteContext): Promise<EnvironmentFlag> {
    return this.write((tx) => this.updateEnvironmentFlagIn(tx, update, resolveWriteContext(context)));
  }

  async createSegment(input: SegmentInput, context?: WriteContext): Promise<Segment> {
    return this.write((tx) => this.createSegmentIn(tx, input, resolveWriteContext(context)));
  }

  async updateSegment(update: SegmentUpdate, context?: WriteContext): Promise<Segment> {
    return this.write((tx) => this.updateSegmentIn(tx, update, resolveWriteContext(context)));
  }

  async writeAll(writes: StorageWrite[], context?: WriteContext): Promise<StorageWriteResult[]> {
    assertWrites(writes);
    resolveWriteContext(context);
    const contexts = writes.map((w) => resolveWriteContext(mergeWriteContexts(context, w.context)));
    return this.write(async (tx) => {
      const results: StorageWriteResult[] = [];
      for (let i = 0; i < writes.length; i++) results.push(await this.applyWrite(tx, writes[i], contexts[i]));
      return results;
    });
  }

  async approveChangeRequest(id: string, decision: ChangeRequestDecision): Promise<ChangeRequestApproval> {
    const d = resolveDecision(decision);
    return this.write(async (tx) => {
      const request = await this.pendingRequest(tx, id, d.version);
      const applied = { actor: request.createdBy, reason: request.reason, data: { changeRequestId: request.id, approvedBy: d.actor } };
      const results: StorageWriteResult[] = [];
      for (const w of request.writes) results.push(await this.applyWrite(tx, w, resolveWriteContext(mergeWriteContexts(applied, w.context))));
      const next = decidedChangeRequest(request, 'applied', d);
      await this.saveChangeRequest(tx, request, next);
      await tx.audit(auditEvent('change-request-approved', decisionContext(d), changeRequestSubject(next, request)));
      return { changeRequest: copyChangeRequest(next), results };
    });
  }

  async rejectChangeRequest(id: string, decision: ChangeRequestDecision): Promise<ChangeRequest> {
    const d = resolveDecision(decision);
    return this.write(async (tx) => {
      const request = await this.pendingRequest(tx, id, d.version);
      const next = decidedChangeRequest(request, 'rejected', d);
      await this.saveChangeRequest(tx, request, next);
      await tx.audit(auditEvent('change-request-rejected', decisionContext(d), changeRequestSubject(next, request)));
      return copyChangeRequest(next);
    });
  }

  /** Applies one write of a batch (or of an approved change request) inside the transaction. */
  protected applyWrite(tx: Tx, w: StorageWrite, ctx: ResolvedWriteContext): Promise<StorageWriteResult> {
    switch (w.op) {
      case 'createEnvironment':
        return this.createEnvironmentIn(tx, w.input, ctx);
      case 'updateEnvironment':
        return this.updateEnvironmentIn(tx, w.update, ctx);
      case 'deleteEnvironment':
        return this.deleteEnvironmentIn(tx, w.slug, ctx);
      case 'createFlag':
        return this.createFlagIn(tx, w.input, ctx);
      case 'updateFlag':
        return this.updateFlagIn(tx, w.update, ctx);
      case 'deleteFlag':
        return this.deleteFlagIn(tx, w.key, ctx);
      case 'createEnvironmentFlag':
        return this.createEnvironmentFlagIn(tx, w.input, ctx);
      case 'updateEnvironmentFlag':
        return this.updateEnvironmentFlagIn(tx, w.update, ctx);
      case 'deleteEnvironmentFlag':
        return this.deleteEnvironmentFlagIn(tx, w.ref, ctx);
      case 'createSegment':
        return this.createSegmentIn(tx, w.input, ctx);
      case 'updateSegment':
        return this.updateSegmentIn(tx, w.update, ctx);
      case 'deleteSegment':
        return this.deleteSegmentIn(tx, w.key, ctx);
    }
  }
}
