// Only for packages/cli/src/commands/demo.ts, which still loads this path until it imports @zenroll/lab itself.
export * from '@zenroll/lab';
