/** The last segment of an ARN (`arn:…:capacity-provider:p1` → `p1`); the text itself when not an ARN. */
export function nameFromArn(arnOrName: string | undefined): string | undefined {
  if (arnOrName === undefined || !arnOrName.startsWith('arn:')) return arnOrName;
  return arnOrName.split(':').at(-1);
}

/** Default IAM roles: Hearth checks a role ARN's shape, not IAM, so these work as they are. */
export const defaultRoles = {
  operator: 'arn:aws:iam::000000000000:role/hearth-operator',
  function: 'arn:aws:iam::000000000000:role/hearth-function',
} as const;

/**
 * Default subnets of `capacity-provider create`: three ids that Hearth's
 * subnet hash spreads over three different zones of the default
 * `HEARTH_ZONES` (`subnet-a` → c, `subnet-b` → a, `subnet-c` → b), so a
 * provider made without flags gets LMI's three-zone spread.
 */
export const defaultSubnets = ['subnet-a', 'subnet-b', 'subnet-c'] as const;
