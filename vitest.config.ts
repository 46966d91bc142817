import { defineConfig } from 'vitest/config';

export default defineConfig({
  // 'sluice', 'sluice/actors' and 'sluice/testkit' (the examples import them) resolve to the TypeScript
  // sources, as they do for tsc (tsconfig.json) and the sluice command (src/cli/sluice-resolve-hooks.mjs):
  // the tests need no build. Tests run in vite's server-side environment, hence `ssr`; the other three
  // are vite's defaults there, which a list of conditions replaces.
  ssr: { resolve: { conditions: ['sluice-source', 'module', 'node', 'development|production'] } },
  test: {
    include: ['test/**/*.test.ts', 'property-tests/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // A real redis-server on a free loopback port for the Redis tests (inject('redis')).
    globalSetup: ['test/setup/redis-server.ts'],
  },
});
