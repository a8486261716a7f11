// Only for `zenroll demo`, which still loads this file from the repository
// (packages/cli/src/commands/demo.ts, loadScript) until it imports
// @zenroll/directory/slapd itself; then this file goes. Everything else
// imports the package.
export * from '@zenroll/directory/slapd';
