import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlagSnapshot } from '../../lib/core';
import { BOOTSTRAP_FORMAT, readBootstrapFile } from '../../lib/propagation/bootstrap-file';
import { decodeNotice } from '../../lib/propagation/change-notice';
import { env, flag, override as ovr } from '../unit/fixtures';

/** What an instance of an earlier version wrote, when overrides were called environment flags. */
describe('data written under the earlier name of overrides', () => {
  const createdAt = '2026-01-01T00:00:00.000Z';
  const environment = env('production');
  const base = flag('checkout', { defaultEnabled: false });
  const override = { ...ovr('production', 'checkout', { enabled: true }), createdAt, updatedAt: createdAt };
  const dated = { ...override, createdAt: new Date(createdAt), updatedAt: new Date(createdAt) };

  it('a bootstrap file naming them environmentFlags reads with its overrides', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ff-earlier-'));
    try {
      const file = join(dir, 'flags.json');
      writeFileSync(
        file,
        JSON.stringify({
          format: BOOTSTRAP_FORMAT,
          exportedAt: createdAt,
          environments: [environment],
          flags: [base],
          environmentFlags: [override],
          segments: [],
        }),
      );
      const data = await readBootstrapFile(file);
      expect(data.overrides).toEqual([dated]);
      expect(data).not.toHaveProperty('environmentFlags');
      expect(new FlagSnapshot(data).isEnabled('checkout', 'production', {})).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a change notice naming the change environmentFlag applies as an override change', () => {
    const upsert = decodeNotice(
      JSON.stringify({ origin: 'old', change: { kind: 'environmentFlag', op: 'upsert', environmentFlag: override } }),
    );
    expect(upsert).toEqual({
      origin: 'old',
      change: {
        kind: 'override',
        op: 'upsert',
        override: dated,
      },
    });
    const snapshot = new FlagSnapshot({
      environments: [environment],
      flags: [base],
      overrides: [],
      segments: [],
    });
    snapshot.apply(upsert!.change!);
    expect(snapshot.isEnabled('checkout', 'production', {})).toBe(true);

    const removal = decodeNotice(
      JSON.stringify({
        origin: 'old',
        change: {
          kind: 'environmentFlag',
          op: 'delete',
          id: override.id,
          environmentId: environment.id,
          flagId: base.id,
        },
      }),
    );
    expect(removal!.change).toEqual({
      kind: 'override',
      op: 'delete',
      id: override.id,
      environmentId: environment.id,
      flagId: base.id,
    });
    snapshot.apply(removal!.change!);
    expect(snapshot.isEnabled('checkout', 'production', {})).toBe(false);

    expect(
      decodeNotice(
        JSON.stringify({
          origin: 'old',
          ref: { kind: 'environmentFlag', environmentId: environment.id, flagId: base.id },
        }),
      ),
    ).toEqual({ origin: 'old', ref: { kind: 'override', environmentId: environment.id, flagId: base.id } });
  });
});
