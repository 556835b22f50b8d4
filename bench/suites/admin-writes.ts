/**
 * Section 6: admin writes. Waits for the admin HTTP API with its audit log.
 *
 * When it lands, this suite will: start the app on PostgreSQL (fresh schema) with the audit log on, and
 * load `PATCH /api/admin/feature-flags/:key` from autocannon in this process (bounded connections and
 * duration, loopback only), reporting PATCHes per second and p99 latency.
 */
import { Suite, emptyResult } from '../harness/types';

export const adminWritesSuite: Suite = {
  id: 'admin-writes',
  section: 6,
  title: 'Admin writes (PATCH on PostgreSQL, audit log on)',
  run: async () =>
    emptyResult('not-available', 'the module has no admin HTTP API or audit log yet; this section is a placeholder to fill in bench/suites/admin-writes.ts'),
};
