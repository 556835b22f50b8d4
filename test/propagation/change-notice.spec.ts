import { StorageChange } from '../../lib/core/changes';
import { decodeNotice, encodeNotice, isNoticeFrom } from '../../lib/propagation/change-notice';
import { override as ovr } from '../unit/fixtures';

describe('change notices', () => {
  const change: StorageChange = { kind: 'override', op: 'upsert', override: ovr('production', 'checkout', {}) };
  const origin = '0b6f7c1e-2a55-4f0e-9d55-6a1f1c3b9e10';

  it('tells an instance its own notices without parsing them, full or by reference, and no one else’s', () => {
    const full = encodeNotice(origin, change, 1_000_000, { epoch: 'e', n: 3, part: 1, parts: 1 });
    const byRef = encodeNotice(origin, change, 10);
    expect(decodeNotice(full)).toMatchObject({ origin, change: { kind: 'override' } });
    expect(decodeNotice(byRef)).toMatchObject({ origin, ref: { kind: 'override' } });
    expect(isNoticeFrom(full, origin)).toBe(true);
    expect(isNoticeFrom(byRef, origin)).toBe(true);
    // Another instance, one whose id starts like this one's, and anything that is not a notice.
    expect(isNoticeFrom(encodeNotice('another', change, 1_000_000), origin)).toBe(false);
    expect(isNoticeFrom(encodeNotice(`${origin}-2`, change, 1_000_000), origin)).toBe(false);
    expect(isNoticeFrom(encodeNotice(origin.slice(0, 8), change, 1_000_000), origin)).toBe(false);
    expect(isNoticeFrom('', origin)).toBe(false);
    expect(isNoticeFrom(`{"origin":"${origin}"`, origin)).toBe(false);
  });
});
