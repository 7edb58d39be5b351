import { type LiveVersionRef, mergeRefs } from "../../src/pod/replication-plan.js";

/** PlanInput.refOf over a plain list of references, as the pod's LiveVersions answers it. */
export function refOfList(refs: readonly LiveVersionRef[]): (version: string) => LiveVersionRef | undefined {
  return (version) => refs.filter((ref) => ref.version === version).reduce<LiveVersionRef | undefined>((merged, ref) => (merged ? mergeRefs(merged, ref) : ref), undefined);
}
