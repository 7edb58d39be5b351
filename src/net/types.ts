/** Shared vocabulary of the net layer. */

/** 32 lowercase hex characters: the first 16 bytes of SHA-256 of the pod's raw Ed25519 public key. */
export type PodId = string;

/** A full pod stores replicas and listens; a client pod only dials out. */
export type Role = "full" | "client";

export type LogLevel = "debug" | "info" | "warn" | "error";

/** The pod's logger. The net layer logs every closed-for-cause connection through it. */
export type Log = (level: LogLevel, message: string) => void;

/** A log that drops everything (tests, benchmarks). */
export const silentLog: Log = () => {};
