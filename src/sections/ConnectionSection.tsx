import { ButtonItem, DropdownItem, PanelSection, PanelSectionRow, Spinner, TextField } from "@decky/ui";
import { QRCodeSVG } from "qrcode.react";
import { useState } from "react";

import type { BackendError, DeviceLogin, Status } from "../backend";
import { errorWords } from "../format";
import type { DevicePhase } from "../hooks/useConnection";

export interface ConnectionSectionProps {
  status: Status | null;
  loading: boolean;
  /** Why reading the status failed. */
  error: BackendError | null;
  busy: boolean;
  /** Why the last sign-in action failed. */
  actionError: BackendError | null;
  device: DeviceLogin | null;
  phase: DevicePhase;
  onDevice: (url: string, verifyTls: boolean) => void;
  onCancelDevice: () => void;
  onPassword: (url: string, username: string, password: string, verifyTls: boolean) => void;
  onToken: (url: string, token: string, verifyTls: boolean) => void;
  onLogout: () => void;
}

type Method = "device" | "password" | "token";

const METHODS = [
  { data: "device", label: "Code on the RomM web page" },
  { data: "password", label: "Username and password" },
  { data: "token", label: "Paste an API token" },
];

const PHASE_WORDS: Record<DevicePhase, string> = {
  idle: "",
  waiting: "Waiting for you to approve this Deck on RomM…",
  denied: "The sign-in was denied on the RomM web page.",
  expired: "The code expired. Start again for a new one.",
};

function DeviceCode({ device, phase, onCancel }: { device: DeviceLogin; phase: DevicePhase; onCancel: () => void }) {
  return (
    <>
      <PanelSectionRow>
        <div>
          Open <b>{device.verification_url}</b> and enter the code
          <div style={{ fontSize: "1.6em", letterSpacing: "0.15em", textAlign: "center" }} aria-label="user code">
            {device.user_code}
          </div>
        </div>
      </PanelSectionRow>
      <PanelSectionRow>
        <div style={{ display: "flex", justifyContent: "center", background: "#fff", padding: 8 }}>
          <QRCodeSVG value={device.verification_url} size={160} title="QR code of the sign-in page" />
        </div>
      </PanelSectionRow>
      {PHASE_WORDS[phase] && (
        <PanelSectionRow>
          <div role="status">{PHASE_WORDS[phase]}</div>
        </PanelSectionRow>
      )}
      <PanelSectionRow>
        <ButtonItem layout="below" onClick={onCancel}>
          Cancel
        </ButtonItem>
      </PanelSectionRow>
    </>
  );
}

function SignIn(props: ConnectionSectionProps) {
  const [url, setUrl] = useState(props.status?.url ?? "");
  const [method, setMethod] = useState<Method>("device");
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [token, setToken] = useState("");
  const verify = true;
  const ready = url.trim() !== "" && !props.busy;
  const submit = (): void => {
    if (method === "device") props.onDevice(url.trim(), verify);
    else if (method === "password") props.onPassword(url.trim(), username, password, verify);
    else props.onToken(url.trim(), token.trim(), verify);
  };
  return (
    <>
      <PanelSectionRow>
        <TextField label="RomM server URL" value={url} onChange={(e) => setUrl(e.target.value)} />
      </PanelSectionRow>
      <PanelSectionRow>
        <DropdownItem
          label="Sign in with"
          rgOptions={METHODS}
          selectedOption={method}
          onChange={(option) => setMethod(option.data as Method)}
        />
      </PanelSectionRow>
      {method === "password" && (
        <>
          <PanelSectionRow>
            <TextField label="Username" value={username} onChange={(e) => setUsername(e.target.value)} />
          </PanelSectionRow>
          <PanelSectionRow>
            <TextField label="Password" bIsPassword value={password} onChange={(e) => setPassword(e.target.value)} />
          </PanelSectionRow>
        </>
      )}
      {method === "token" && (
        <PanelSectionRow>
          <TextField label="API token" bIsPassword value={token} onChange={(e) => setToken(e.target.value)} />
        </PanelSectionRow>
      )}
      <PanelSectionRow>
        <ButtonItem layout="below" disabled={!ready} onClick={submit}>
          {props.busy ? "Signing in…" : method === "device" ? "Get a sign-in code" : "Sign in"}
        </ButtonItem>
      </PanelSectionRow>
    </>
  );
}

/** The "RomM server" section: sign-in (device code with QR, password or token), then who we are connected to. */
export function ConnectionSection(props: ConnectionSectionProps) {
  const { status, loading, error, actionError, device } = props;
  const problem = actionError ?? error;
  return (
    <PanelSection title="RomM server">
      {loading && !status && (
        <PanelSectionRow>
          <Spinner />
        </PanelSectionRow>
      )}
      {status?.configured && (
        <>
          <PanelSectionRow>
            <div>
              Connected to <b>{status.url}</b>
              {status.server_version && <div>RomM {status.server_version}</div>}
              {status.username && <div>Signed in as {status.username}</div>}
            </div>
          </PanelSectionRow>
          <PanelSectionRow>
            <ButtonItem layout="below" disabled={props.busy} onClick={props.onLogout}>
              Sign out
            </ButtonItem>
          </PanelSectionRow>
        </>
      )}
      {status && !status.configured && !device && <SignIn {...props} />}
      {device && <DeviceCode device={device} phase={props.phase} onCancel={props.onCancelDevice} />}
      {problem && (
        <PanelSectionRow>
          <div role="alert">{errorWords(problem)}</div>
        </PanelSectionRow>
      )}
    </PanelSection>
  );
}
