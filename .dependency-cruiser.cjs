/**
 * The import rules of lib/ (dependency-cruiser): `npx depcruise lib`. Checked by
 * test/architecture/imports.spec.ts. Type-only imports count as imports.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'Modules import each other in one direction only.',
      severity: 'error',
      from: { path: '^lib/' },
      to: { circular: true },
    },
    {
      name: 'core-is-pure',
      comment: 'lib/core imports nothing of the library above it and no framework (only semver and re2js).',
      severity: 'error',
      from: { path: '^lib/core/' },
      to: { pathNot: ['^lib/core/', '(^|/)node_modules/(semver|re2js)/', '^node:', '^(crypto|util)$'] },
    },
    {
      name: 'storage-is-below',
      comment: 'Storage imports only the core, itself and the optional-peer loader: nothing above it.',
      severity: 'error',
      from: { path: '^lib/storage/' },
      to: { path: '^lib/', pathNot: ['^lib/storage/', '^lib/core/', '^lib/optional-peers\\.ts$'] },
    },
    {
      name: 'typeorm-only-in-its-backend',
      comment: 'Only the TypeORM backend (lib/storage/typeorm) knows TypeORM: the contract, records, memory and Redis backends do not.',
      severity: 'error',
      from: { path: '^lib/(core|storage)/', pathNot: '^lib/storage/typeorm/' },
      to: { path: ['(^|/)node_modules/typeorm/', '^lib/storage/typeorm/'] },
    },
    {
      name: 'ioredis-only-in-its-backend',
      comment: 'Only the Redis backend knows ioredis.',
      severity: 'error',
      from: { path: '^lib/(core|storage)/', pathNot: '^lib/storage/redis' },
      to: { path: '(^|/)node_modules/ioredis/' },
    },
  ],
  options: {
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.spec\\.ts$' },
  },
};
