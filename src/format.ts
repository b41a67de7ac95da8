/** Words and numbers as the panel shows them. */
import type { BackendError, ErrorCode } from "./backend";

const UNITS = ["B", "KB", "MB", "GB", "TB"];

/** 1536 -> "1.5 KB" (powers of 1024; one decimal below 10 units). */
export function formatBytes(bytes: number): string {
  let value = Math.max(0, bytes);
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 10 ? 0 : 1;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

/** 125 -> "2 min 5 s"; 3700 -> "1 h 1 min". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

const HEADLINES: Partial<Record<ErrorCode, string>> = {
  server_unreachable: "RomM could not be reached",
  tls_failure: "The server's TLS certificate was not accepted",
  auth_rejected: "RomM rejected the sign-in",
  missing_scope: "This account lacks a permission RomDeck needs",
  server_too_old: "This RomM server is too old for RomDeck",
  not_configured: "No RomM server is set up yet",
  disk_full: "Not enough free space",
  busy: "Already running",
};

/** The error in words: a headline for its kind, then the backend's sentence. */
export function errorWords(error: BackendError): string {
  const headline = HEADLINES[error.code];
  if (!headline || error.message.startsWith(headline)) return error.message;
  return `${headline}. ${error.message}`;
}
