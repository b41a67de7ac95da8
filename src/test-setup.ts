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

vi.mock("@decky/api", () => ({
  callable: (name: string) => {
    const fn = backendMock(name);
    return (...args: unknown[]) => fn(...args);
  },
  definePlugin: <T,>(fn: T) => fn,
  toaster: { toast: vi.fn() },
  addEventListener: vi.fn(),
  removeEventListener: vi.fn(),
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
    onClick,
  }: ChildrenProps & { disabled?: boolean; onClick?: () => void }) =>
    createElement("button", { type: "button", disabled, onClick }, children),
  ProgressBarWithInfo: ({
    nProgress,
    indeterminate,
    sOperationText,
  }: {
    nProgress?: number;
    indeterminate?: boolean;
    sOperationText?: ReactNode;
  }) =>
    createElement(
      "div",
      { role: "progressbar", "aria-valuenow": indeterminate ? undefined : nProgress },
      sOperationText,
    ),
}));

afterEach(() => {
  cleanup();
  for (const [name, fn] of registry) {
    fn.mockReset();
    fn.mockImplementation(unscripted(name));
  }
});
