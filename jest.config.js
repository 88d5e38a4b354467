/** Jest runs the TypeScript tests through ts-jest; native tests run under ctest. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // The fault tests need the fault-injection addon; `npm run test:faults`
  // builds it and runs them (npm test does both), so a plain jest run leaves
  // them out instead of reporting them skipped.
  testPathIgnorePatterns: process.env.IOREACTOR_FAULT_ADDON ? ['/node_modules/'] : ['/node_modules/', '/test/faults\\.test\\.ts$'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'test/tsconfig.json' }] },
  testTimeout: 20000,
  // Real sockets and child processes: keep the two cores from thrashing.
  maxWorkers: 2,
};
