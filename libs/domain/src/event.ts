/**
 * An event as the event store keeps it (emmett style): a type that names what
 * happened and the data that says how. Metadata (trace context, position) is
 * the store's business, not the domain's.
 */
export type DomainEvent<Type extends string, Data> = Readonly<{ type: Type; data: Readonly<Data> }>;

/** A command: what a caller asks for, with everything the decider may not look up itself. */
export type DomainCommand<Type extends string, Data> = Readonly<{ type: Type; data: Readonly<Data> }>;
