/** Enumerations shared by capacity providers and functions, named as in botocore. */

/** Instruction set of instances and functions (botocore `Architecture`). */
export type Architecture = 'x86_64' | 'arm64';
/** Every {@link Architecture}, in botocore's order. */
export const architectures: readonly Architecture[] = ['x86_64', 'arm64'];

/** Detail of system logs (botocore `SystemLogLevel`). */
export type SystemLogLevel = 'DEBUG' | 'INFO' | 'WARN';
/** Every {@link SystemLogLevel}. */
export const systemLogLevels: readonly SystemLogLevel[] = ['DEBUG', 'INFO', 'WARN'];
