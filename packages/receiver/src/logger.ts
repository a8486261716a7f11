/**
 * The structured logger the Receiver writes its operational lines to: the
 * subset of pino it uses, so `zenroll serve` passes a pino instance and tests
 * pass a recorder. The roll-up records of SPEC §7 go through `RollupLog`.
 */
export interface Logger {
  debug(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
}

export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};
