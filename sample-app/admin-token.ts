import { Logger } from '@nestjs/common';
import { generateApiTokenSecret } from '../lib';

let generated: string | undefined;

/**
 * The admin API's bootstrap token: `FEATURE_FLAGS_ADMIN_TOKEN`, or, when it is unset, one generated for
 * this run and printed once (a development convenience: set the variable anywhere that matters).
 */
export function sampleAdminToken(): string {
  const configured = process.env.FEATURE_FLAGS_ADMIN_TOKEN;
  if (configured) return configured;
  if (generated === undefined) {
    generated = generateApiTokenSecret();
    new Logger('FeatureFlagsAdmin').warn(
      `FEATURE_FLAGS_ADMIN_TOKEN is not set: this run's admin token is ${generated}  (curl -H "Authorization: Bearer ${generated}" …/api/admin/…)`,
    );
  }
  return generated;
}
