/**
 * Test doubles for Decky's two frontend libraries, which throw when imported
 * outside Steam.
 *
 * - `@decky/api`: `callable(name)` returns one `vi.fn` per name, kept in a
 *   registry so a test can script the backend with `backendMock(name)`.
 *   Every mock is reset after each test; one that was not scripted rejects,
 *   so a test never passes on an answer it did not set up.
 * - `@decky/ui`: explicit pass-through components rendering plain HTML (an
 *   auto-mock would yield undefined components).
 */
import { cleanup } from "@testing-library/react";
import { createElement, type ReactNode } from "react";
import { afterEach, type Mock, vi } from "vitest";

type BackendFn = Mock<(...args: unknown[]) => Promise<unknown>>;

const registry = vi.hoisted(() => new Map<string, BackendFn>());

function unscripted(name: string): (...args: unknown[]) => Promise<unknown> {
  return async () => {
    throw new Error(`test did not script the backend call "${name}"`);
  };
}

/** The mock behind `callable(name)`; script it with `mockResolvedValue` and friends. */
export function backendMock(name: string): BackendFn {
  let fn = registry.get(name);
  if (!fn) {
    fn = vi.fn(unscripted(name));
    registry.set(name, fn);
  }
  return fn;
}

/** Scripts `name` to answer `{ok: true, data}` on every call. */
export function answerOk(name: string, data: unknown): BackendFn {
  return backendMock(name).mockResolvedValue({ ok: true, data });
}

const listeners = vi.hoisted(() => new Map<string, Set<(...args: unknown[]) => void>>());

/** Delivers a backend event to the panel's listeners, as Decky does for `decky.emit`. */
export function emitEvent(name: string, ...args: unknown[]): void {
  for (const listener of listeners.get(name) ?? []) listener(...args);
}

vi.mock("@decky/api", () => ({
  callable: (name: string) => {
    const fn = backendMock(name);
    return (...args: unknown[]) => fn(...args);
  },
  definePlugin: <T,>(fn: T) => fn,
  toaster: { toast: vi.fn() },
  addEventListener: (name: string, listener: (...args: unknown[]) => void) => {
    if (!listeners.has(name)) listeners.set(name, new Set());
    listeners.get(name)?.add(listener);
    return listener;
  },
  removeEventListener: (name: string, listener: (...args: unknown[]) => void) => {
    listeners.get(name)?.delete(listener);
  },
}));

interface ChildrenProps {
  children?: ReactNode;
}

vi.mock("@decky/ui", () => ({
  staticClasses: { Title: "Title" },
  PanelSection: ({ title, children }: ChildrenProps & { title?: string }) =>
    createElement(
      "section",
      { "aria-label": title },
      title && createElement("h2", null, title),
      children,
    ),
  PanelSectionRow: ({ children }: ChildrenProps) => createElement("div", null, children),
  ButtonItem: ({
    children,
    disabled,
    label,
    onClick,
  }: ChildrenProps & { disabled?: boolean; label?: ReactNode; onClick?: () => void }) =>
    label
      ? createElement(
          "div",
          null,
          createElement("span", null, label),
          createElement("button", { type: "button", disabled, onClick }, children),
        )
      : createElement("button", { type: "button", disabled, onClick }, children),
  Spinner: () => createElement("span", { role: "status" }, "Loading…"),
  Field: ({ label, children }: ChildrenProps & { label?: ReactNode }) =>
    createElement("div", null, label && createElement("span", null, label), children),
  TextField: ({
    label,
    value,
    onChange,
    bIsPassword,
    disabled,
  }: {
    label?: string;
    value?: string;
    onChange?: (event: { target: { value: string } }) => void;
    bIsPassword?: boolean;
    disabled?: boolean;
  }) =>
    createElement("input", {
      "aria-label": label,
      type: bIsPassword ? "password" : "text",
      value: value ?? "",
      disabled,
      onChange: (event: { target: { value: string } }) => onChange?.(event),
    }),
  ToggleField: ({
    label,
    checked,
    onChange,
    disabled,
  }: {
    label?: string;
    checked?: boolean;
    onChange?: (checked: boolean) => void;
    disabled?: boolean;
  }) =>
    createElement("input", {
      type: "checkbox",
      "aria-label": label,
      checked: checked ?? false,
      disabled,
      onChange: (event: { target: { checked: boolean } }) => onChange?.(event.target.checked),
    }),
  DropdownItem: ({
    label,
    rgOptions,
    selectedOption,
    onChange,
  }: {
    label?: string;
    rgOptions: { data: unknown; label: string }[];
    selectedOption?: unknown;
    onChange?: (option: { data: unknown; label: string }) => void;
  }) =>
    createElement(
      "select",
      {
        "aria-label": label,
        value: String(selectedOption ?? ""),
        onChange: (event: { target: { value: string } }) => {
          const option = rgOptions.find((o) => String(o.data) === event.target.value);
          if (option) onChange?.(option);
        },
      },
      rgOptions.map((o) => createElement("option", { key: String(o.data), value: String(o.data) }, o.label)),
    ),
  ProgressBarWithInfo: ({
    nProgress,
    indeterminate,
    sOperationText,
  }: {
    nProgress?: number;
    indeterminate?: boolean;
    sOperationText?: ReactNode;
    sTimeRemaining?: ReactNode;
  }) =>
    createElement(
      "div",
      { role: "progressbar", "aria-valuenow": indeterminate ? undefined : nProgress },
      sOperationText,
    ),
}));

afterEach(() => {
  cleanup();
  listeners.clear();
  for (const [name, fn] of registry) {
    fn.mockReset();
    fn.mockImplementation(unscripted(name));
  }
});
