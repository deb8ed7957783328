// Every test runs without Tauri's plugins: no store (prefs keep to memory),
// no native dialog, no opener.
import { vi } from "vitest";

vi.mock("@tauri-apps/plugin-store", () => ({ load: async () => { throw new Error("no store in tests"); } }));
vi.mock("@tauri-apps/plugin-dialog", () => ({ open: async () => null }));
vi.mock("@tauri-apps/plugin-opener", () => ({ openUrl: async () => {} }));
