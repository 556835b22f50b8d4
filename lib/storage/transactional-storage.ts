import { decidedChangeRequest, resolveDecision, buildApiToken, buildChangeRequest } from './admin-records';
import { auditEvent, changeRequestSubject, copyChangeRequest } from './audit';
import {
  assertWrites,
  decisionContext,
  mergeWriteContexts,
  ResolvedWriteContext,
  resolveWriteContext,
} from './write-context';
import {
  ApiTokenInput,
  ChangeRequestApproval,
  ChangeRequestDecision,
  ChangeRequestInput,
  ClientKeyInput,
} from './feature-flag-admin-storage.interface';
import { EnvironmentClone } from './feature-flag-storage.interface';
import {
  EnvironmentInput,
  EnvironmentUpdate,
  FlagInput,
  FlagUpdate,
  OverrideInput,
  OverrideRef,
  OverrideUpdate,
  SegmentInput,
  SegmentUpdate,
  StorageWrite,
  StorageWriteResult,
  WriteContext,
} from './inputs';
import { RecordTransaction } from './record-transaction';
import { ApiToken, ChangeRequest, ClientKey, Environment, Flag, Override, Segment } from './records';
import { API_TOKEN_RECORDS, buildClientKey, CLIENT_KEY_RECORDS } from './secret-records';
import {
  createChangeRequest,
  createSecretRecord,
  pendingChangeRequest,
  revokeSecretRecord,
} from './writes/admin-writes';
import * as writes from './writes/record-writes';

/**
 * Every write of `FeatureFlagStorage` and `FeatureFlagAdminStorage`, written once for every backend over
 * its records (`RecordTransaction`): a backend provides the transaction (`transaction`) and its reads.
 */
export abstract class TransactionalStorage {
  /**
   * Runs `work` in one transaction: everything it writes commits together, or nothing does. Its changes
   * and audit events are reported to subscribers after the commit.
   */
  protected abstract transaction<T>(work: (tx: RecordTransaction) => Promise<T>): Promise<T>;

  private write<T>(
    context: WriteContext | undefined,
    work: (tx: RecordTransaction, ctx: ResolvedWriteContext) => Promise<T>,
  ): Promise<T> {
    const ctx = resolveWriteContext(context);
    return this.transaction((tx) => work(tx, ctx));
  }

  async createEnvironment(input: EnvironmentInput, context?: WriteContext): Promise<Environment> {
    return this.write(context, (tx, ctx) => writes.createEnvironment(tx, input, ctx));
  }

  async updateEnvironment(update: EnvironmentUpdate, context?: WriteContext): Promise<Environment> {
    return this.write(context, (tx, ctx) => writes.updateEnvironment(tx, update, ctx));
  }

  async deleteEnvironment(slug: string, context?: WriteContext): Promise<boolean> {
    return this.write(context, (tx, ctx) => writes.deleteEnvironment(tx, slug, ctx));
  }

  async cloneEnvironment(source: string, input: EnvironmentInput, context?: WriteContext): Promise<EnvironmentClone> {
    return this.write(context, (tx, ctx) => writes.cloneEnvironment(tx, source, input, ctx));
  }

  async createFlag(input: FlagInput, context?: WriteContext): Promise<Flag> {
    return this.write(context, (tx, ctx) => writes.createFlag(tx, input, ctx));
  }

  async updateFlag(update: FlagUpdate, context?: WriteContext): Promise<Flag> {
    return this.write(context, (tx, ctx) => writes.updateFlag(tx, update, ctx));
  }

  async deleteFlag(key: string, context?: WriteContext): Promise<boolean> {
    return this.write(context, (tx, ctx) => writes.deleteFlag(tx, key, ctx));
  }

  async createOverride(input: OverrideInput, context?: WriteContext): Promise<Override> {
    return this.write(context, (tx, ctx) => writes.createOverride(tx, input, ctx));
  }

  async updateOverride(update: OverrideUpdate, context?: WriteContext): Promise<Override> {
    return this.write(context, (tx, ctx) => writes.updateOverride(tx, update, ctx));
  }

  async deleteOverride(ref: OverrideRef, context?: WriteContext): Promise<boolean> {
    return this.write(context, (tx, ctx) => writes.deleteOverride(tx, ref, ctx));
  }

  async createSegment(input: SegmentInput, context?: WriteContext): Promise<Segment> {
    return this.write(context, (tx, ctx) => writes.createSegment(tx, input, ctx));
  }

  async updateSegment(update: SegmentUpdate, context?: WriteContext): Promise<Segment> {
    return this.write(context, (tx, ctx) => writes.updateSegment(tx, update, ctx));
  }

  async deleteSegment(key: string, context?: WriteContext): Promise<boolean> {
    return this.write(context, (tx, ctx) => writes.deleteSegment(tx, key, ctx));
  }

  async writeAll(batch: StorageWrite[], context?: WriteContext): Promise<StorageWriteResult[]> {
    assertWrites(batch);
    resolveWriteContext(context);
    const contexts = batch.map((w) => resolveWriteContext(mergeWriteContexts(context, w.context)));
    return this.transaction(async (tx) => {
      const results: StorageWriteResult[] = [];
      for (let i = 0; i < batch.length; i++) results.push(await this.applyWrite(tx, batch[i], contexts[i]));
      return results;
    });
  }

  async createApiToken(input: ApiTokenInput, context?: WriteContext): Promise<ApiToken> {
    const ctx = resolveWriteContext(context);
    const token = buildApiToken(input, ctx);
    return this.transaction((tx) => createSecretRecord(tx, 'apiToken', API_TOKEN_RECORDS, token, ctx));
  }

  async revokeApiToken(id: string, context?: WriteContext): Promise<ApiToken> {
    return this.write(context, (tx, ctx) => revokeSecretRecord(tx, 'apiToken', API_TOKEN_RECORDS, id, ctx));
  }

  async createClientKey(input: ClientKeyInput, context?: WriteContext): Promise<ClientKey> {
    const ctx = resolveWriteContext(context);
    const key = buildClientKey(input, ctx);
    return this.transaction((tx) => createSecretRecord(tx, 'clientKey', CLIENT_KEY_RECORDS, key, ctx));
  }

  async revokeClientKey(id: string, context?: WriteContext): Promise<ClientKey> {
    return this.write(context, (tx, ctx) => revokeSecretRecord(tx, 'clientKey', CLIENT_KEY_RECORDS, id, ctx));
  }

  async createChangeRequest(input: ChangeRequestInput, context?: WriteContext): Promise<ChangeRequest> {
    const ctx = resolveWriteContext(context);
    const request = buildChangeRequest(input, ctx);
    return this.transaction((tx) => createChangeRequest(tx, request, ctx));
  }

  async approveChangeRequest(id: string, decision: ChangeRequestDecision): Promise<ChangeRequestApproval> {
    const d = resolveDecision(decision);
    return this.transaction(async (tx) => {
      const request = await pendingChangeRequest(tx, id, d.version);
      const applied = {
        actor: request.createdBy,
        reason: request.reason,
        data: { changeRequestId: request.id, approvedBy: d.actor },
      };
      const results: StorageWriteResult[] = [];
      for (const w of request.writes)
        results.push(await this.applyWrite(tx, w, resolveWriteContext(mergeWriteContexts(applied, w.context))));
      const next = decidedChangeRequest(request, 'applied', d);
      await tx.update('changeRequest', request, next);
      await tx.audit(auditEvent('change-request-approved', decisionContext(d), changeRequestSubject(next, request)));
      return { changeRequest: copyChangeRequest(next), results };
    });
  }

  async rejectChangeRequest(id: string, decision: ChangeRequestDecision): Promise<ChangeRequest> {
    const d = resolveDecision(decision);
    return this.transaction(async (tx) => {
      const request = await pendingChangeRequest(tx, id, d.version);
      const next = decidedChangeRequest(request, 'rejected', d);
      await tx.update('changeRequest', request, next);
      await tx.audit(auditEvent('change-request-rejected', decisionContext(d), changeRequestSubject(next, request)));
      return copyChangeRequest(next);
    });
  }

  /** Applies one write of a batch (or of an approved change request) inside the transaction. */
  private applyWrite(tx: RecordTransaction, w: StorageWrite, ctx: ResolvedWriteContext): Promise<StorageWriteResult> {
    // A unique-key violation is reported as the duplicate of the write being applied, not an earlier one.
    tx.duplicate = undefined;
    switch (w.op) {
      case 'createEnvironment':
        return writes.createEnvironment(tx, w.input, ctx);
      case 'updateEnvironment':
        return writes.updateEnvironment(tx, w.update, ctx);
      case 'deleteEnvironment':
        return writes.deleteEnvironment(tx, w.slug, ctx);
      case 'createFlag':
        return writes.createFlag(tx, w.input, ctx);
      case 'updateFlag':
        return writes.updateFlag(tx, w.update, ctx);
      case 'deleteFlag':
        return writes.deleteFlag(tx, w.key, ctx);
      case 'createOverride':
        return writes.createOverride(tx, w.input, ctx);
      case 'updateOverride':
        return writes.updateOverride(tx, w.update, ctx);
      case 'deleteOverride':
        return writes.deleteOverride(tx, w.ref, ctx);
      case 'createSegment':
        return writes.createSegment(tx, w.input, ctx);
      case 'updateSegment':
        return writes.updateSegment(tx, w.update, ctx);
      case 'deleteSegment':
        return writes.deleteSegment(tx, w.key, ctx);
    }
  }
}
