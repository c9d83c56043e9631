import { defineConfig } from 'vitest/config';

// Three tiers (README.md, "Tests run against the real thing"): unit is pure logic; integration runs against a real
// kube-apiserver + etcd started once per run; e2e adds a real LXD host, real dockerd and a real Swarm.
export default defineConfig({
  test: {
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/support/global-kube.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // One apiserver serves every file; files run one at a time so that timing-sensitive tests
          // (leader election, watch restarts) are not starved on a small machine.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/support/global-kube.ts'],
          testTimeout: 900_000,
          hookTimeout: 900_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          // Faults at random moments against the same real components as e2e (npm run test:chaos).
          name: 'chaos',
          include: ['test/chaos/**/*.test.ts'],
          globalSetup: ['test/support/global-kube.ts'],
          testTimeout: 900_000,
          hookTimeout: 900_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
