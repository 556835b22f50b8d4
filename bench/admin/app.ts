/**
 * The app the admin-writes section loads: FeatureFlagsModule on a fresh PostgreSQL schema (BENCH_URL)
 * with FeatureFlagsAdminModule (audit log on: every write records its event in the write's transaction),
 * on Express, listening on a free loopback port. Declares `production` ← `staging` and BENCH_FLAGS flags
 * (`bench-admin-<i>`); the section PATCHes their staging overrides. Reports `{ port }` once listening.
 */
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FeatureFlagsAdminModule } from '../../lib/admin/feature-flags-admin.module';
import { FeatureFlagsModule } from '../../lib/feature-flags.module';
import { FeatureFlagStorage } from '../../lib/storage/feature-flag-storage.interface';

async function main(): Promise<void> {
  const flags = Number(process.env.BENCH_FLAGS ?? 100);
  @Module({
    imports: [
      FeatureFlagsModule.forRoot({
        backend: 'database',
        connection: process.env.BENCH_URL!,
        propagation: 'none',
        environments: [
          { slug: 'production', type: 'production' },
          { slug: 'staging', type: 'preproduction', parent: 'production' },
        ],
        isGlobal: true,
      }),
      FeatureFlagsAdminModule.forRoot({ adminToken: process.env.BENCH_ADMIN_TOKEN! }),
    ],
  })
  class AdminBenchModule {}
  const app = await NestFactory.create(AdminBenchModule, { logger: false });
  await app.init();
  const storage = app.get<FeatureFlagStorage>(FeatureFlagStorage);
  for (let i = 0; i < flags; i++) await storage.createFlag({ key: `bench-admin-${i}`, name: `bench-admin-${i}` });
  await app.listen(0, '127.0.0.1');
  process.on('message', (m) => {
    if (m === 'stop') void app.close().then(() => process.exit(0));
  });
  process.on('disconnect', () => process.exit(0));
  process.send!({ port: (app.getHttpServer().address() as { port: number }).port });
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
