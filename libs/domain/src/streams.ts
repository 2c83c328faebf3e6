/** Stream of one capacity provider's events: `capacityProvider:<Name>`. */
export function capacityProviderStreamId(name: string): string {
  return `capacityProvider:${name}`;
}

/** Stream of one function's events (all its versions): `function:<FunctionName>`. */
export function functionStreamId(name: string): string {
  return `function:${name}`;
}
