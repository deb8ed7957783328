// Dropbox paths as the folder browser shows them. Root is "/".

export interface Crumb {
  label: string;
  path: string;
}

/** "/" or "" -> "/"; "Exports/2024/" -> "/Exports/2024". */
export function normalize(path: string | null | undefined): string {
  const parts = (path ?? "").split("/").filter((p) => p !== "");
  return "/" + parts.join("/");
}

/** "/Exports/2024" -> Dropbox (/), Exports (/Exports), 2024 (/Exports/2024). */
export function breadcrumbs(path: string | null | undefined): Crumb[] {
  const parts = normalize(path).split("/").filter((p) => p !== "");
  const out: Crumb[] = [{ label: "Dropbox", path: "/" }];
  parts.forEach((p, i) => out.push({ label: p, path: "/" + parts.slice(0, i + 1).join("/") }));
  return out;
}

export function join(folder: string, name: string): string {
  const n = name.trim().replace(/^\/+|\/+$/g, "");
  const f = normalize(folder);
  return f === "/" ? `/${n}` : `${f}/${n}`;
}

export function parent(path: string): string {
  const parts = normalize(path).split("/").filter((p) => p !== "");
  return "/" + parts.slice(0, -1).join("/");
}

/** Why a new folder name cannot be used, or null. */
export function folderNameProblem(name: string): string | null {
  const n = name.trim();
  if (n === "") return "Type a name for the folder.";
  if (n.includes("/") || n.includes("\\")) return "A folder name cannot contain / or \\.";
  if (n === "." || n === "..") return "Choose another name.";
  if (n.length > 255) return "The name is too long (255 characters at most).";
  return null;
}

/** The Dropbox web page of a folder. */
export function webUrl(path: string): string {
  const p = normalize(path);
  return "https://www.dropbox.com/home" + (p === "/" ? "" : p.split("/").map(encodeURIComponent).join("/"));
}
