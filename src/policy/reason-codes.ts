/** Reason codes carried by every Decision (and by audit records). docs/policies.md explains each one. */

/** A rule decided: an allow/warn/audit rule allowed, or a deny rule denied (see Decision.effect). */
export const RULE_MATCH = 'RULE_MATCH';
/** Policies exist but no allow, warn or audit rule matched: denied (fail closed). */
export const NO_RULE_MATCH = 'NO_RULE_MATCH';
/** No policies at all and the snapshot is not strict: allowed so the gateway can run in observe mode. */
export const OBSERVE_MODE_NO_POLICY = 'OBSERVE_MODE_NO_POLICY';
/** No policies at all and the snapshot is strict: denied. */
export const NO_POLICY = 'NO_POLICY';
/** The gateway's PII/secret scan blocked the request (CZ_GATEWAY_PII_ACTION=block). */
export const DLP_BLOCKED = 'DLP_BLOCKED';
/** Evaluation failed; the request is denied (fail closed). */
export const ENGINE_UNAVAILABLE = 'ENGINE_UNAVAILABLE';
/** `tollgate policy eval --jsonl`: a policy in the input line failed validation; the request is denied. */
export const INVALID_POLICY = 'INVALID_POLICY';
