/** Jest runs the TypeScript tests through ts-jest; native tests run under ctest. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'test/tsconfig.json', isolatedModules: true }] },
  testTimeout: 20000,
  // Real sockets and child processes: keep the two cores from thrashing.
  maxWorkers: 2,
};
