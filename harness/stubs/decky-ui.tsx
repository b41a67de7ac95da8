/**
 * Harness stand-ins for the `@decky/ui` components the panel imports, as plain
 * accessible HTML styled like Steam's dark quick-access menu (harness/qam.css).
 * Props follow @decky/ui 4.12's d.ts for the parts the panel uses.
 */
import type { ChangeEvent, ReactNode } from "react";

export const staticClasses = { Title: "qam-title" };

export function PanelSection({ title, children }: { title?: string; children?: ReactNode }) {
  return (
    <section className="qam-section" aria-label={title}>
      {title && <h2 className="qam-section-title">{title}</h2>}
      {children}
    </section>
  );
}

export function PanelSectionRow({ children }: { children?: ReactNode }) {
  return <div className="qam-row">{children}</div>;
}

export function ButtonItem(props: {
  children?: ReactNode;
  label?: ReactNode;
  description?: ReactNode;
  disabled?: boolean;
  layout?: "below" | "inline";
  onClick?: () => void;
}) {
  const button = (
    <button type="button" className="qam-button" disabled={props.disabled} onClick={props.onClick}>
      {props.children}
    </button>
  );
  if (props.label === undefined && props.layout !== "inline") return <div className="qam-field qam-below">{button}</div>;
  return (
    <div className={`qam-field ${props.layout === "inline" ? "qam-inline" : "qam-below"}`}>
      {props.label !== undefined && <span className="qam-label">{props.label}</span>}
      {button}
      {props.description && <div className="qam-description">{props.description}</div>}
    </div>
  );
}

export function Spinner() {
  return (
    <span role="status" className="qam-spinner">
      Loading…
    </span>
  );
}

export function TextField(props: {
  label?: ReactNode;
  value?: string;
  onChange?: (event: ChangeEvent<HTMLInputElement>) => void;
  bIsPassword?: boolean;
  disabled?: boolean;
  description?: ReactNode;
}) {
  return (
    <label className="qam-field qam-text">
      {props.label && <span className="qam-label">{props.label}</span>}
      <input
        type={props.bIsPassword ? "password" : "text"}
        value={props.value ?? ""}
        disabled={props.disabled}
        onChange={props.onChange}
      />
      {props.description && <span className="qam-description">{props.description}</span>}
    </label>
  );
}

export function ToggleField(props: {
  label?: ReactNode;
  description?: ReactNode;
  checked?: boolean;
  disabled?: boolean;
  onChange?: (checked: boolean) => void;
}) {
  return (
    <label className="qam-field qam-toggle">
      <span className="qam-label">{props.label}</span>
      <input
        type="checkbox"
        role="switch"
        checked={props.checked ?? false}
        disabled={props.disabled}
        onChange={(event) => props.onChange?.(event.target.checked)}
      />
      <span className="qam-switch" aria-hidden="true" />
      {props.description && <span className="qam-description">{props.description}</span>}
    </label>
  );
}

interface Option {
  data: unknown;
  label: ReactNode;
}

export function DropdownItem(props: {
  label?: ReactNode;
  rgOptions: Option[];
  selectedOption?: unknown;
  disabled?: boolean;
  onChange?: (option: Option) => void;
}) {
  return (
    <label className="qam-field qam-dropdown">
      {props.label && <span className="qam-label">{props.label}</span>}
      <select
        value={String(props.selectedOption ?? "")}
        disabled={props.disabled}
        onChange={(event) => {
          const option = props.rgOptions.find((o) => String(o.data) === event.target.value);
          if (option) props.onChange?.(option);
        }}
      >
        {props.rgOptions.map((o) => (
          <option key={String(o.data)} value={String(o.data)}>
            {typeof o.label === "string" ? o.label : String(o.data)}
          </option>
        ))}
      </select>
    </label>
  );
}

export function ProgressBarWithInfo(props: {
  nProgress?: number;
  indeterminate?: boolean;
  sOperationText?: ReactNode;
  sTimeRemaining?: ReactNode;
  label?: ReactNode;
}) {
  const value = props.indeterminate ? undefined : Math.max(0, Math.min(100, props.nProgress ?? 0));
  return (
    <div className="qam-progress">
      {props.label && <span className="qam-label">{props.label}</span>}
      <div
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={value}
        className={value === undefined ? "qam-bar qam-bar-indeterminate" : "qam-bar"}
      >
        <div className="qam-bar-fill" style={{ width: value === undefined ? "30%" : `${value}%` }} />
      </div>
      <div className="qam-progress-info">
        <span>{props.sOperationText}</span>
        {props.sTimeRemaining && <span>{props.sTimeRemaining}</span>}
      </div>
    </div>
  );
}
