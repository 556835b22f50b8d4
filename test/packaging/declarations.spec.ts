import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import * as ts from 'typescript';

/**
 * The published type declarations, as `tsc -p tsconfig.build.json` emits them, reference only what a user of
 * them has installed. The rule (also in the README's Install section):
 *
 * 1. Every module any emitted `.d.ts` imports is Node's own, a dependency or a peer dependency of the package.
 * 2. What the package's entry (`exports["."].types`, and every file it reaches) imports is a required peer
 *    (`@nestjs/common`, `@nestjs/core`, `rxjs`, `reflect-metadata`), a dependency, or `typeorm` — the one
 *    optional peer the entry's types name (the `typeorm` option, `TypeOrmStorage`, `FEATURE_FLAG_MIGRATIONS`):
 *    an app compiling with `skipLibCheck: false` installs typeorm (types only: it is never loaded unless used).
 *    Any other optional peer (`@openfeature/server-sdk`, `ioredis`, `@nestjs/swagger`, `class-validator`, …)
 *    is used by shape in public types, so that an app not using that part needs nothing more.
 *
 * Proven by compiling small apps against the emitted declarations with `skipLibCheck: false`, once where
 * `@openfeature/server-sdk` cannot be found, and once with the real SDK accepting `FeatureFlagsProvider`.
 */
const ROOT = resolve(__dirname, '../..');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  exports: Record<string, { types?: string }>;
  dependencies?: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
};
const REQUIRED_PEERS = Object.keys(PKG.peerDependencies).filter((p) => !PKG.peerDependenciesMeta?.[p]?.optional);
/** Optional peers that the entry's declarations may name (see rule 2). */
const ENTRY_OPTIONAL_PEERS = ['typeorm'];

// Outside the repository: module resolution from here must not find the repository's node_modules.
const WORK = mkdtempSync(join(tmpdir(), 'ff-declarations-'));
const INSTALLED = join(WORK, 'node_modules', PKG.name);
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

/** The package name a bare specifier names (`@scope/name/sub` → `@scope/name`). */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function isBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || builtinModules.includes(packageOf(specifier));
}

interface Declaration {
  file: string;
  relativeImports: string[];
  bareImports: string[];
}

function readDeclaration(file: string): Declaration {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  const specifiers = [
    ...info.importedFiles.map((f) => f.fileName),
    ...info.typeReferenceDirectives.map((f) => f.fileName),
  ];
  return {
    file,
    relativeImports: specifiers.filter((s) => s.startsWith('.')),
    bareImports: specifiers.filter((s) => !s.startsWith('.')),
  };
}

function allDeclarations(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.d.ts'))
    .map((f) => join(dir, f));
}

/** The declaration files an entry reaches through relative imports, with the bare modules each imports. */
function closure(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    const d = readDeclaration(file);
    seen.set(file, d.bareImports);
    for (const spec of d.relativeImports) {
      const base = resolve(dirname(file), spec.replace(/\.js$/, ''));
      const target = [`${base}.d.ts`, join(base, 'index.d.ts')].find((f) => existsSync(f));
      if (target === undefined) throw new Error(`${relative(INSTALLED, file)} imports ${spec}, which was not emitted`);
      pending.push(target);
    }
  }
  return seen;
}

/** Compiles an app's own files, with skipLibCheck: false, against what WORK/node_modules holds. */
function compileApp(name: string, sources: Record<string, string>): { status: number | null; output: string } {
  const dir = join(WORK, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, source] of Object.entries(sources)) writeFileSync(join(dir, file), source);
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        skipLibCheck: false,
        noEmit: true,
        target: 'ES2022',
        module: 'commonjs',
        moduleResolution: 'node10',
        experimentalDecorators: true,
        emitDecoratorMetadata: true,
        types: ['node'],
        typeRoots: [join(ROOT, 'node_modules/@types')],
      },
      files: Object.keys(sources),
    }),
  );
  const child = spawnSync(process.execPath, [TSC, '-p', join(dir, 'tsconfig.json')], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: child.status, output: `${child.stdout}${child.stderr}` };
}

/** Makes `packages` (from the repository's install) resolvable from WORK, and nothing else. */
function provide(packages: string[]): void {
  for (const p of packages) {
    const link = join(WORK, 'node_modules', p);
    if (existsSync(link)) continue;
    mkdirSync(dirname(link), { recursive: true });
    const installed = join(ROOT, 'node_modules', p);
    if (!existsSync(join(installed, 'package.json'))) throw new Error(`${p} is not installed in ${ROOT}/node_modules`);
    symlinkSync(installed, link, 'dir');
  }
}

describe('published type declarations', () => {
  beforeAll(() => {
    mkdirSync(INSTALLED, { recursive: true });
    // The package as npm installs it: its package.json and what `npm run build` emits under dist/.
    execFileSync(
      process.execPath,
      [TSC, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(INSTALLED, 'dist')],
      { cwd: ROOT, stdio: 'pipe' },
    );
    writeFileSync(join(INSTALLED, 'package.json'), JSON.stringify(PKG));
    provide([...REQUIRED_PEERS, ...ENTRY_OPTIONAL_PEERS]);
  }, 180_000);

  afterAll(() => rmSync(WORK, { recursive: true, force: true }));

  it("every module an emitted .d.ts imports is Node's own, a dependency or a peer dependency", () => {
    const declared = new Set([...Object.keys(PKG.dependencies ?? {}), ...Object.keys(PKG.peerDependencies)]);
    const files = allDeclarations(join(INSTALLED, 'dist'));
    expect(files.length).toBeGreaterThan(50);
    const undeclared = files.flatMap((f) =>
      readDeclaration(f)
        .bareImports.filter((s) => !isBuiltin(s) && !declared.has(packageOf(s)))
        .map((s) => `${relative(INSTALLED, f)}: ${s}`),
    );
    expect(undeclared).toEqual([]);
  });

  it('the entry reaches only required peers, dependencies and typeorm; no optional peer from another part', () => {
    const entries = Object.values(PKG.exports).flatMap((e) => (e.types ? [e.types] : []));
    expect(entries).toEqual(['./dist/lib/index.d.ts']);
    const allowed = new Set([...REQUIRED_PEERS, ...Object.keys(PKG.dependencies ?? {}), ...ENTRY_OPTIONAL_PEERS]);
    const reached = new Map<string, Set<string>>();
    for (const entry of entries) {
      for (const [file, modules] of closure(join(INSTALLED, entry))) {
        for (const m of modules.filter((s) => !isBuiltin(s)).map(packageOf)) {
          if (!reached.has(m)) reached.set(m, new Set());
          reached.get(m)!.add(relative(INSTALLED, file));
        }
      }
    }
    const offending = [...reached]
      .filter(([m]) => !allowed.has(m))
      .map(([m, files]) => `${m} (from ${[...files].join(', ')})`);
    expect(offending).toEqual([]);
    // The required peers the types use are really reached (the walk follows the entry's imports).
    expect([...reached.keys()]).toEqual(expect.arrayContaining(['@nestjs/common', '@nestjs/core', 'rxjs']));
  });

  it('an app using the module and the provider type-checks (skipLibCheck: false) without @openfeature/server-sdk', () => {
    const app = `
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { FeatureFlag, FeatureFlagsModule, FeatureFlagsProvider, FeatureFlagsService } from '${PKG.name}';

const provider = new FeatureFlagsProvider();
@Controller()
class AppController {
  constructor(private readonly flags: FeatureFlagsService) {}
  @Get('checkout') @FeatureFlag('new-checkout')
  checkout(): { on: boolean } {
    return { on: this.flags.isEnabled('new-checkout') };
  }
}
@Module({ imports: [FeatureFlagsModule.forRoot({ environments: [{ slug: 'production' }], openFeatureProvider: provider })], controllers: [AppController] })
export class AppModule {}
export const resolved: Promise<boolean> = provider.resolveBooleanEvaluation('new-checkout', false, { environment: 'production' }).then((r) => r.value);
`;
    // probe.ts shows that @openfeature/server-sdk is indeed not to be found there (or this would prove nothing).
    const result = compileApp('without-sdk', {
      'main.ts': app,
      'probe.ts': `import { OpenFeature } from '@openfeature/server-sdk';\nexport const api = OpenFeature;\n`,
    });
    expect(result.output.trim().split('\n')).toEqual([
      "probe.ts(1,29): error TS2307: Cannot find module '@openfeature/server-sdk' or its corresponding type declarations.",
    ]);
  }, 240_000);

  it('the real @openfeature/server-sdk accepts FeatureFlagsProvider as its Provider (from the emitted declarations)', () => {
    provide(['@openfeature/server-sdk', '@openfeature/core']);
    const app = `
import { ErrorCode, OpenFeature, Provider, ProviderEvents, ResolutionDetails } from '@openfeature/server-sdk';
import { FeatureFlagsProvider } from '${PKG.name}';

const provider = new FeatureFlagsProvider();
export const asProvider: Provider = provider;
export const ready: Promise<void> = OpenFeature.setProviderAndWait(provider);
export const named: Promise<void> = OpenFeature.setProviderAndWait('checkout', provider);
export const details: Promise<ResolutionDetails<{ [key: string]: string }>> = provider.resolveObjectEvaluation('banner', { text: 'Hi' }, {});
export const code: ErrorCode | undefined = provider.resolve('banner', 'Hi', undefined).errorCode;
provider.events.addHandler(ProviderEvents.Ready, (d) => d?.providerName);
`;
    const result = compileApp('with-sdk', { 'main.ts': app });
    expect(result.output).toBe('');
    expect(result.status).toBe(0);
  }, 240_000);
});
