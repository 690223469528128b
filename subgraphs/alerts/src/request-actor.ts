/**
 * Who makes a rule change, for the audit log: the caller the subgraph verified from the gateway's signed internal
 * token (SPEC §8), a person's subject, an API key's id or `service:<name>`.
 */
export function actorOf(context: { readonly caller?: { readonly subject: string } | undefined }): string {
  // Every GraphQL call reaching a subgraph carries a verified caller; an in-process call without one is the system.
  return context.caller?.subject ?? 'unknown';
}
