// The panel harness's walker: Playwright (playwright-core) driving Debian's chromium
// through the real panel served by scripts/harness_bridge.py.
//
// Usage: node harness/walk.mjs --page URL --out DIR [--username USER]
//   password (real servers): $ROMDECK_PASSWORD; browser: $ROMDECK_CHROMIUM or /usr/bin/chromium.
// Steps: device-flow sign-in (password sign-in against a real server), platform selection,
// a sync, a download with progress (Play on a shortcut not installed: the launch gate),
// a save conflict resolved (fake server, when the Plugin has the save callables), a BIOS
// download (the menu closed and reopened mid-download). Each step asserts what the panel shows and saves DIR/NN-step.png (the panel,
// 310 px wide) and DIR/NN-step-page.png (panel and stand-in Steam library). Writes
// DIR/report.json {steps: [{name, status: "passed"|"failed"|"skipped", note}]}.
// Exits 0 when no step failed, 1 otherwise.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";

import { chromium } from "playwright-core";

const { values: opts } = parseArgs({
  options: {
    page: { type: "string" },
    out: { type: "string", default: "out/screenshots" },
    username: { type: "string" },
  },
});
if (!opts.page) {
  console.error("usage: node harness/walk.mjs --page URL --out DIR [--username USER]");
  process.exit(2);
}
const base = opts.page.replace(/\/$/, "");
mkdirSync(opts.out, { recursive: true });

const SHORT = 15_000;
const LONG = 120_000;
const steps = [];
let shot = 0;

class Skip extends Error {}

function check(condition, message) {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}

async function lab(path, body) {
  const response = await fetch(`${base}${path}`, body === undefined ? {} : {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${path} answered ${response.status}: ${text}`);
  return JSON.parse(text);
}

/** Calls a Plugin callable through the bridge, as the panel does; returns `data` of an ok result. */
async function backend(name, ...args) {
  const result = await lab(`/call/${name}`, args);
  check(result.ok, `${name} answered ${JSON.stringify(result)}`);
  return result.data;
}

const browser = await chromium.launch({
  executablePath: process.env.ROMDECK_CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
const page = await browser.newPage({ viewport: { width: 900, height: 800 }, deviceScaleFactor: 1 });
const pageErrors = [];
page.on("pageerror", (error) => pageErrors.push(String(error)));
page.on("console", (message) => {
  if (message.type() === "error") console.error(`[page] ${message.text()}`);
});
const panel = page.getByRole("complementary", { name: "quick access panel" });
const library = page.getByRole("region", { name: "Steam library" });
const toasts = page.getByRole("region", { name: "toasts" });
const section = (title) => panel.getByRole("region", { name: title });

async function screenshot(name) {
  shot += 1;
  const stem = `${String(shot).padStart(2, "0")}-${name}`;
  await page.waitForTimeout(150); // let the last render paint
  await panel.screenshot({ path: join(opts.out, `${stem}.png`) });
  await page.screenshot({ path: join(opts.out, `${stem}-page.png`), fullPage: true });
  return stem;
}

async function step(name, body) {
  const started = Date.now();
  try {
    const note = (await body()) ?? "";
    steps.push({ name, status: "passed", note, seconds: (Date.now() - started) / 1000 });
    console.log(`PASS ${name}${note ? `: ${note}` : ""}`);
  } catch (error) {
    if (error instanceof Skip) {
      steps.push({ name, status: "skipped", note: error.message });
      console.log(`SKIP ${name}: ${error.message}`);
      return;
    }
    steps.push({ name, status: "failed", note: String(error?.stack ?? error) });
    console.log(`FAIL ${name}: ${error?.stack ?? error}`);
    await page.screenshot({ path: join(opts.out, `failed-${name}.png`), fullPage: true }).catch(() => {});
  }
}

const info = await lab("/lab/info");
const fake = info.mode === "fake";
const state = {};

await step("sign-in", async () => {
  await page.goto(`${base}/`);
  const url = panel.getByRole("textbox", { name: "RomM server URL" });
  await url.waitFor({ timeout: SHORT });
  await url.fill(info.romm_url);
  if (fake) {
    await screenshot("sign-in-form");
    await panel.getByRole("button", { name: "Get a sign-in code" }).click();
    const code = panel.getByLabel("user code");
    await code.waitFor({ timeout: SHORT });
    const userCode = (await code.innerText()).trim();
    check(/^[A-Z0-9-]{4,}$/i.test(userCode), `a user code is shown (got "${userCode}")`);
    await panel.getByText("Waiting for you to approve this Deck on RomM").waitFor({ timeout: SHORT });
    check((await panel.locator("svg title", { hasText: "QR code of the sign-in page" }).count()) === 1, "a QR code is drawn");
    check((await panel.innerText()).includes(`${info.romm_url}/pair/device`), "the verification URL is shown");
    await screenshot("device-code");
    await lab("/lab/approve", { user_code: userCode });
  } else {
    const password = process.env.ROMDECK_PASSWORD;
    check(opts.username && password, "--username and $ROMDECK_PASSWORD are given for a real server");
    await panel.getByRole("combobox", { name: "Sign in with" }).selectOption("password");
    await panel.getByRole("textbox", { name: "Username" }).fill(opts.username);
    await panel.getByRole("textbox", { name: "Password" }).fill(password);
    await screenshot("sign-in-form");
    await panel.getByRole("button", { name: "Sign in" }).click();
  }
  await panel.getByText("Connected to").waitFor({ timeout: LONG });
  check((await section("RomM server").innerText()).includes(info.romm_url), "the server URL is shown");
  await section("RomM server").getByText(/^RomM (?!server$)\S+$/).waitFor({ timeout: SHORT });
  await screenshot("signed-in");
  state.signedIn = true;
  return fake ? "device code approved" : `signed in as ${opts.username}`;
});

await step("platform-selection", async () => {
  check(state.signedIn, "signed in");
  const platforms = await backend("list_platforms");
  const withRoms = platforms.filter((p) => p.rom_count > 0);
  check(withRoms.length > 0, "the server has a platform with ROMs");
  const chosen = fake
    ? withRoms.filter((p) => p.slug === "psx" || p.slug === "gba")
    : [withRoms.reduce((a, b) => (b.rom_count < a.rom_count ? b : a))];
  check(chosen.length > 0, "the platforms to choose are there");
  for (const p of chosen) {
    const toggle = section("Library").getByRole("switch", { name: `${p.name} (${p.rom_count})` });
    await toggle.waitFor({ timeout: SHORT });
    check(!(await toggle.isChecked()), `${p.name} starts unselected`);
    await toggle.click();
    // The switch is controlled: it turns on once save_selection has answered.
    await page.waitForFunction((el) => el.checked, await toggle.elementHandle(), { timeout: SHORT, polling: 100 });
    await page.waitForFunction(
      async (id) => {
        const r = await fetch("/call/list_platforms", { method: "POST", body: "[]" }).then((x) => x.json());
        return r.ok && r.data.some((q) => q.id === id && q.selected);
      },
      p.id,
      { timeout: SHORT, polling: 250 },
    );
  }
  state.platforms = chosen;
  await screenshot("platforms-selected");
  return chosen.map((p) => `${p.name} (${p.rom_count})`).join(", ");
});

await step("sync", async () => {
  check(state.platforms, "platforms were selected");
  const expected = state.platforms.reduce((n, p) => n + p.rom_count, 0);
  await section("Library").getByRole("button", { name: "Sync", exact: true }).click();
  await section("Library").getByRole("progressbar").waitFor({ timeout: SHORT });
  await screenshot("syncing");
  const last = section("Library").getByLabel("last sync");
  await last.waitFor({ timeout: LONG * 3 });
  const words = await last.innerText();
  const added = Number(/(\d+) added/.exec(words)?.[1] ?? NaN);
  check(added > 0 && added <= expected, `the summary counts the games added (got "${words}")`);
  if (fake) check(added === expected, `every ROM of the chosen platforms is added (${words})`);
  const shortcuts = library.getByRole("listitem").filter({ has: page.getByRole("button", { name: /^Play / }) });
  await page.waitForFunction(
    (n) => document.querySelectorAll('[aria-label^="shortcut "]').length >= n,
    added,
    { timeout: LONG },
  );
  check((await shortcuts.count()) === added, `Steam holds one shortcut per game added (${await shortcuts.count()})`);
  if (fake) {
    // Every ROM of the fake library has a cover: each shortcut got its portrait.
    const art = await library.locator('[aria-label^="shortcut "] img').count();
    check(art === added, `every shortcut has its portrait (${art} of ${added})`);
  }
  const collections = await library.getByRole("list", { name: "collections" }).innerText();
  check(collections.includes("RomM: "), "the games are in RomM collections");
  if (fake) for (const p of state.platforms) check(collections.includes(`RomM: ${p.name}: ${p.rom_count} games`), `RomM: ${p.name} holds its games`);
  check(collections.includes("Couch co-op (the user's own): 2 games"), "the user's own collection is untouched");
  check(!(await section("Library").getByRole("alert").count()), "no sync error is shown");
  await screenshot("synced");
  return words;
});

await step("download", async () => {
  check(state.platforms, "platforms were selected");
  const rom = await lab(`/lab/smallest-rom?platform_id=${state.platforms[0].id}`);
  state.rom = rom;
  if (fake) await lab("/lab/knobs", { chunk_delay: 1.2 });
  try {
    await library.getByRole("button", { name: `Play ${rom.name}`, exact: true }).click();
    await toasts.getByText("Downloading").waitFor({ timeout: SHORT });
    const row = section("Downloads").getByRole("progressbar");
    const words = section("Downloads").getByText(`${rom.name}:`);
    if (fake) {
      await words.filter({ hasText: / of / }).waitFor({ timeout: SHORT });
      // Wait until some bytes arrived: the bar and the words then show a partial download.
      await page.waitForFunction(
        (el) => Number(el.getAttribute("aria-valuenow")) > 0,
        await row.first().elementHandle(),
        { timeout: SHORT, polling: 50 },
      );
      const value = Number(await row.first().getAttribute("aria-valuenow"));
      check(value > 0 && value < 100, `the bar shows progress under 100 % (${value})`);
      const text = await words.first().innerText();
      check(/[1-9][\d.]* [KM]?B of /.test(text), `the words show the bytes done so far (${text})`);
      await screenshot("downloading");
      // Close and reopen the quick-access menu mid-download: the panel shows the live state.
      await page.getByRole("button", { name: "Close the quick access menu" }).click();
      check((await section("Downloads").count()) === 0, "the closed menu shows no panel");
      await page.getByRole("button", { name: "Open the quick access menu" }).click();
      await section("Downloads").getByText(`${rom.name}:`).filter({ hasText: / of / }).waitFor({ timeout: SHORT });
      await screenshot("download-reopened");
    } else {
      await words.first().waitFor({ timeout: SHORT }).then(() => screenshot("downloading"), () => undefined);
    }
    await toasts.getByText("Ready to play").waitFor({ timeout: LONG * 5 });
  } finally {
    if (fake) await lab("/lab/knobs", { chunk_delay: 0 });
  }
  const installed = await backend("list_installed");
  check(installed.installs.some((i) => i.rom_id === rom.rom_id), "the backend lists the game as installed");
  await section("Downloads").getByRole("button", { name: "Uninstall" }).first().waitFor({ timeout: SHORT });
  await page.waitForFunction(
    () => [...document.querySelectorAll(".steam-meta")].some((e) => e.textContent?.includes("cancelled by RomDeck")),
    null,
    { timeout: SHORT },
  );
  await screenshot("installed");
  return `${rom.name} (${rom.bytes} bytes)`;
});

await step("save-conflict", async () => {
  // Enabled by itself once main.Plugin has the save callables (the "saves" branch).
  if (!info.features.saves) throw new Skip("main.Plugin has no save callables (list_saves, sync_saves, resolve_save_conflict) yet");
  if (!fake) throw new Skip("a conflict needs a second device's upload; only made against the fake server");
  check(state.rom, "a game was downloaded");
  await lab("/lab/save-conflict", { rom_id: state.rom.rom_id });
  const saves = section("Saves");
  await saves.getByRole("button", { name: "Sync saves now" }).click();
  const alert = saves.getByText("changed here and on RomM.");
  await alert.waitFor({ timeout: LONG });
  // the game's summary says so too (it must never read "up to date" while in conflict)
  await saves.getByLabel(`saves ${state.rom.rom_id}`).getByText(/1 conflict/).waitFor({ timeout: SHORT });
  await screenshot("save-conflict");
  await saves.getByRole("button", { name: "Keep this Deck's" }).click();
  await alert.waitFor({ state: "detached", timeout: LONG });
  await saves.getByLabel(`saves ${state.rom.rom_id}`).getByText(/up to date|to upload/).waitFor({ timeout: SHORT });
  await screenshot("save-resolved");
  return "kept this Deck's save";
});

await step("bios", async () => {
  check(state.signedIn, "signed in");
  const bios = section("BIOS");
  await bios.getByText(/BIOS missing|ready|None of your platforms/).first().waitFor({ timeout: LONG });
  // Prefer a platform that cannot start without its BIOS.
  const missing = bios.locator('[aria-label^="bios "]', { hasText: "BIOS missing" });
  const scope = (await missing.getByRole("button").count()) > 0 ? missing.first() : bios;
  const button = scope.getByRole("button", { name: /^Download \d+ files? for / });
  if ((await button.count()) === 0) {
    await screenshot("bios");
    if (fake) throw new Error("the fake server's PlayStation BIOS is offered for download");
    return "nothing to download on this server";
  }
  const label = await button.first().innerText();
  const region = bios.locator('[aria-label^="bios "]', { has: page.getByRole("button", { name: label }) });
  const slug = (await region.getAttribute("aria-label")).replace(/^bios /, "");
  const before = (await region.innerText()).match(/: present/g)?.length ?? 0;
  await screenshot("bios-missing");
  await button.first().click();
  const after = bios.getByLabel(`bios ${slug}`, { exact: true });
  await page.waitForFunction(
    ([name, n]) => (document.querySelector(`[aria-label="bios ${name}"]`)?.textContent?.match(/: present/g)?.length ?? 0) > n,
    [slug, before],
    { timeout: LONG },
  );
  check(!(await bios.getByRole("alert").count()), "no BIOS download failed");
  const files = await backend("list_firmware", slug);
  const placed = files[0].files.filter((f) => f.placed);
  check(placed.length > 0, "the backend lists the downloaded files as placed");
  const text = await after.innerText();
  await screenshot("bios-downloaded");
  // The fake server's BIOS bytes are no known dump, so they show "present, wrong file".
  return `${label}: ${placed.map((f) => `${f.file_name} ${f.status}`).join(", ")}${text.includes("wrong file") ? " (the fake's bytes are no known dump)" : ""}`;
});

check(true, "");
await browser.close();
if (pageErrors.length) steps.push({ name: "page-errors", status: "failed", note: pageErrors.join("\n") });
writeFileSync(join(opts.out, "report.json"), JSON.stringify({ mode: info.mode, steps }, null, 2));
const failed = steps.filter((s) => s.status === "failed");
console.log(`${steps.length - failed.length} of ${steps.length} steps passed or skipped; screenshots in ${opts.out}`);
process.exit(failed.length ? 1 : 0);
