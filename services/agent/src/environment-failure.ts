/**
 * Why an EE could not start or stopped working, as a Lambda state reason code
 * (`FunctionError.InitTimeout`, `InvalidZipFileException`, …) and a message for
 * people. Thrown inside the start pipeline; it ends as the EE's Failed status.
 */
export class EnvironmentFailure extends Error {
  constructor(
    /** Lambda's state reason code. */
    readonly reasonCode: string,
    message: string,
  ) {
    super(message);
    this.name = 'EnvironmentFailure';
  }
}
