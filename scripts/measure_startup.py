#!/usr/bin/env python3
"""Startup time and idle memory of the desktop app; run by scripts/measure-startup.sh.

Expects DISPLAY (an Xvfb of its own) and DBUS_SESSION_BUS_ADDRESS (a bus of its
own) to be set by the caller. For each run it starts the app with a clean
environment (fresh HOME and XDG_* dirs, no DROPSYNC_* variables) and watches
the X server through libX11 (ctypes, no extra packages):

  mapped      the app's "Dropsync" window is viewable
  first paint the window's pixels are no longer uniform (web content painted)
  drawn       from this moment on, the window shows what it still shows after
              the idle wait (within 1% of its pixels: overlay scrollbars
              fading out, a caret):
              the settled first screen, not a loading placeholder

Times are from the exec of the app. After `--idle` seconds past "drawn", the
PSS (/proc/PID/smaps_rollup) of the app and all its descendants (WebKit's
web and network processes) is summed. Everything started is killed.
"""

import argparse
import ctypes
import hashlib
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

# ---------------------------------------------------------------- libX11


class XWindowAttributes(ctypes.Structure):
    _fields_ = [
        ("x", ctypes.c_int), ("y", ctypes.c_int),
        ("width", ctypes.c_int), ("height", ctypes.c_int),
        ("border_width", ctypes.c_int), ("depth", ctypes.c_int),
        ("visual", ctypes.c_void_p), ("root", ctypes.c_ulong),
        ("class_", ctypes.c_int), ("bit_gravity", ctypes.c_int),
        ("win_gravity", ctypes.c_int), ("backing_store", ctypes.c_int),
        ("backing_planes", ctypes.c_ulong), ("backing_pixel", ctypes.c_ulong),
        ("save_under", ctypes.c_int), ("colormap", ctypes.c_ulong),
        ("map_installed", ctypes.c_int), ("map_state", ctypes.c_int),
        ("all_event_masks", ctypes.c_long), ("your_event_mask", ctypes.c_long),
        ("do_not_propagate_mask", ctypes.c_long),
        ("override_redirect", ctypes.c_int), ("screen", ctypes.c_void_p),
    ]


class XImage(ctypes.Structure):
    pass


XImage._fields_ = [
    ("width", ctypes.c_int), ("height", ctypes.c_int),
    ("xoffset", ctypes.c_int), ("format", ctypes.c_int),
    ("data", ctypes.c_void_p),
    ("byte_order", ctypes.c_int), ("bitmap_unit", ctypes.c_int),
    ("bitmap_bit_order", ctypes.c_int), ("bitmap_pad", ctypes.c_int),
    ("depth", ctypes.c_int), ("bytes_per_line", ctypes.c_int),
    ("bits_per_pixel", ctypes.c_int),
    ("red_mask", ctypes.c_ulong), ("green_mask", ctypes.c_ulong),
    ("blue_mask", ctypes.c_ulong), ("obdata", ctypes.c_void_p),
    ("create_image", ctypes.c_void_p),
    ("destroy_image", ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(XImage))),
    ("get_pixel", ctypes.c_void_p), ("put_pixel", ctypes.c_void_p),
    ("sub_image", ctypes.c_void_p), ("add_pixel", ctypes.c_void_p),
]

IS_VIEWABLE = 2
Z_PIXMAP = 2


class X:
    def __init__(self):
        lib = ctypes.CDLL("libX11.so.6")
        lib.XOpenDisplay.restype = ctypes.c_void_p
        lib.XOpenDisplay.argtypes = [ctypes.c_char_p]
        lib.XDefaultRootWindow.restype = ctypes.c_ulong
        lib.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
        lib.XQueryTree.argtypes = [
            ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(ctypes.c_ulong),
            ctypes.POINTER(ctypes.c_ulong), ctypes.POINTER(ctypes.POINTER(ctypes.c_ulong)),
            ctypes.POINTER(ctypes.c_uint)]
        lib.XFetchName.argtypes = [ctypes.c_void_p, ctypes.c_ulong,
                                   ctypes.POINTER(ctypes.c_char_p)]
        lib.XFree.argtypes = [ctypes.c_void_p]
        lib.XGetWindowAttributes.argtypes = [ctypes.c_void_p, ctypes.c_ulong,
                                             ctypes.POINTER(XWindowAttributes)]
        lib.XGetImage.restype = ctypes.POINTER(XImage)
        lib.XGetImage.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int,
                                  ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
                                  ctypes.c_ulong, ctypes.c_int]
        lib.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
        # A window can vanish or unmap between two calls: ignore X errors
        # instead of Xlib's default handler, which exits the process.
        handler_t = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)
        self._handler = handler_t(lambda d, e: 0)
        lib.XSetErrorHandler.argtypes = [handler_t]
        lib.XSetErrorHandler(self._handler)
        self.lib = lib
        self.dpy = lib.XOpenDisplay(None)
        if not self.dpy:
            sys.exit("measure: cannot open DISPLAY %r" % os.environ.get("DISPLAY"))
        self.root = lib.XDefaultRootWindow(self.dpy)

    def find(self, title, min_width=400):
        """The viewable top-level window with this title, or None."""
        root, parent = ctypes.c_ulong(), ctypes.c_ulong()
        children, n = ctypes.POINTER(ctypes.c_ulong)(), ctypes.c_uint()
        if not self.lib.XQueryTree(self.dpy, self.root, ctypes.byref(root),
                                   ctypes.byref(parent), ctypes.byref(children),
                                   ctypes.byref(n)):
            return None
        try:
            for i in range(n.value):
                w = children[i]
                name = ctypes.c_char_p()
                if not self.lib.XFetchName(self.dpy, w, ctypes.byref(name)):
                    continue
                ok = name.value == title.encode()
                self.lib.XFree(name)
                if not ok:
                    continue
                a = self.attrs(w)
                if a and a.map_state == IS_VIEWABLE and a.width >= min_width:
                    return w
        finally:
            if children:
                self.lib.XFree(children)
        return None

    def attrs(self, w):
        a = XWindowAttributes()
        if not self.lib.XGetWindowAttributes(self.dpy, w, ctypes.byref(a)):
            return None
        return a

    def grab(self, w):
        """The window's pixels as bytes (32 bits a pixel), with width and height."""
        a = self.attrs(w)
        if not a or a.map_state != IS_VIEWABLE:
            return None
        img = self.lib.XGetImage(self.dpy, w, 0, 0, a.width, a.height, ~0 & 0xFFFFFFFF, Z_PIXMAP)
        if not img:
            return None
        im = img.contents
        try:
            if im.bits_per_pixel != 32:
                sys.exit("measure: need a 24/32-bit screen, got %d bpp" % im.bits_per_pixel)
            data = ctypes.string_at(im.data, im.bytes_per_line * im.height)
            return Frame(data, im.width, im.height, im.bytes_per_line)
        finally:
            im.destroy_image(img)


class Frame:
    def __init__(self, data, width, height, stride):
        self.data, self.width, self.height, self.stride = data, width, height, stride
        self.key = (width, height, hashlib.blake2b(data, digest_size=16).digest())
        self._blank = None

    def write_ppm(self, path):
        rgb = bytearray(self.width * self.height * 3)
        t = self.width * 4
        px = b"".join(self.data[y * self.stride:y * self.stride + t] for y in range(self.height))
        rgb[0::3], rgb[1::3], rgb[2::3] = px[2::4], px[1::4], px[0::4]
        with open(path, "wb") as f:
            f.write(b"P6 %d %d 255\n" % (self.width, self.height))
            f.write(rgb)

    def pixels(self):
        return memoryview(self.data).cast("I")

    def blank(self):
        """True while the window is one flat color (nothing painted yet)."""
        if self._blank is None:
            px = self.pixels()
            first = px[0]
            self._blank = all(v == first for v in px[:: 7])
        return self._blank

    def differs(self, other, limit=1.0):
        """Fraction of the pixels that differ from another frame of the same
        window (counting stops past `limit`)."""
        if (self.width, self.height) != (other.width, other.height):
            return 1.0
        s, t = self.stride, self.width * 4
        diff, most = 0, limit * self.width * self.height
        for y in range(self.height):
            if diff > most:
                break
            a = self.data[y * s:y * s + t]
            b = other.data[y * s:y * s + t]
            if a != b:
                pa, pb = memoryview(a).cast("I"), memoryview(b).cast("I")
                diff += sum(1 for i in range(self.width) if pa[i] != pb[i])
        return diff / float(self.width * self.height)


# ---------------------------------------------------------------- processes


def children_map():
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    return kids


def children_map_pids():
    return [p for ps in children_map().values() for p in ps]


def tree(pid):
    kids, out, todo = children_map(), [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def proc_name(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            argv0 = f.read().split(b"\0")[0].decode(errors="replace")
        return os.path.basename(argv0) or "?"
    except OSError:
        return "?"


def memory_kib(pid):
    """(PSS, private) of a process, in KiB, from smaps_rollup; None if gone."""
    fields = {}
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 2 and parts[1].isdigit():
                    fields[parts[0].rstrip(":")] = int(parts[1])
    except OSError:
        return None
    if "Pss" not in fields:
        return None
    return fields["Pss"], fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)


def kill_tree(proc):
    pids = [p for p in tree(proc.pid)]
    for p in pids:
        try:
            os.kill(p, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    for p in pids + tree(proc.pid):
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # its own session: anything left in it
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


# ---------------------------------------------------------------- one run


def fresh_profile(base):
    home = tempfile.mkdtemp(prefix="profile.", dir=base)
    for d in ("config", "data", "cache", "state", "runtime"):
        os.makedirs(os.path.join(home, d), mode=0o700)
    return home


def app_env(home, extra):
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "DISPLAY": os.environ["DISPLAY"],
        "HOME": home,
        "XDG_CONFIG_HOME": os.path.join(home, "config"),
        "XDG_DATA_HOME": os.path.join(home, "data"),
        "XDG_CACHE_HOME": os.path.join(home, "cache"),
        "XDG_STATE_HOME": os.path.join(home, "state"),
        "XDG_RUNTIME_DIR": os.path.join(home, "runtime"),
    }
    if os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        env["DBUS_SESSION_BUS_ADDRESS"] = os.environ["DBUS_SESSION_BUS_ADDRESS"]
    for kv in extra:
        k, _, v = kv.partition("=")
        env[k] = v
    return env


def run_once(x, app, home, args, label):
    log = open(os.path.join(home, "app-%s.log" % label.replace(" ", "-")), "ab")
    timeline, frames = [], {}  # (t, key); key -> Frame
    mapped = None
    # For reading the app's own log lines (UTC timestamps) against the exec.
    log.write(b"measure: exec at unix time %.6f\n" % time.time())
    log.flush()
    t0 = time.monotonic()
    proc = subprocess.Popen([app], env=app_env(home, args.env), stdout=log, stderr=log,
                            stdin=subprocess.DEVNULL, start_new_session=True, cwd=home)
    try:
        win, last_change, last_key = None, None, None
        while True:
            now = time.monotonic()
            if proc.poll() is not None:
                raise RuntimeError("the app exited with %s (log: %s)" % (proc.returncode, log.name))
            if now - t0 > args.timeout:
                raise RuntimeError("no settled window after %ss (log: %s)" % (args.timeout, log.name))
            if win is None:
                win = x.find("Dropsync")
                if win is not None:
                    mapped = now - t0
            if win is not None:
                f = x.grab(win)
                if f is not None:
                    frames.setdefault(f.key, f)
                    timeline.append((now - t0, f.key))
                    if f.key != last_key:
                        last_key, last_change = f.key, now
                    elif now - last_change >= args.stable and not frames[f.key].blank():
                        break
            time.sleep(args.interval)
        # Idle, then the settled picture and the memory.
        settled_at = last_change - t0
        time.sleep(max(0.0, settled_at + args.idle - (time.monotonic() - t0)))
        final = x.grab(win)
        if final is None:
            raise RuntimeError("the window went away while idle")
        pids = tree(proc.pid)
        mem = [(p, proc_name(p), memory_kib(p)) for p in pids]
        mem = [(p, name, m[0], m[1]) for p, name, m in mem if m is not None]
        # PSS splits a shared page between all the processes mapping it: other
        # WebKit programs running meanwhile lower ours (and what counts as private).
        others = [p for p in children_map_pids() if p not in pids
                  and proc_name(p).startswith("WebKitWebProcess")]
    finally:
        kill_tree(proc)
        log.close()

    if args.dump:
        os.makedirs(args.dump, exist_ok=True)
        seen = set()
        for t, k in timeline + [(None, final.key)]:
            if k in seen and t is not None:
                continue
            seen.add(k)
            fr = final if t is None else frames[k]
            name = "%s-%s.ppm" % (label.replace(" ", "-"), "final" if t is None else "%06.3f" % t)
            fr.write_ppm(os.path.join(args.dump, "%d-%s" % (os.getpid(), name)))

    def matches(key):
        fr = frames[key]
        return fr.key == final.key or fr.differs(final, args.tolerance) <= args.tolerance

    first_paint = next((t for t, k in timeline if not frames[k].blank()), None)
    drawn = None
    verdict = {}
    for t, k in reversed(timeline):
        if k not in verdict:
            verdict[k] = not frames[k].blank() and matches(k)
        if not verdict[k]:
            break
        drawn = t
    return {
        "label": label,
        "mapped": mapped,
        "first_paint": first_paint,
        "drawn": drawn,
        "polls": len(timeline),
        "pss_kib": sum(m[2] for m in mem),
        "private_kib": sum(m[3] for m in mem),
        "other_webkit": len(others),
        "procs": mem,
    }


# ---------------------------------------------------------------- report


def fmt_s(v):
    return "   -   " if v is None else "%6.2fs" % v


def stats_row(name, vals, fmt):
    vals = [v for v in vals if v is not None]
    if not vals:
        return "  %-26s %8s %8s %8s" % (name, "-", "-", "-")
    return "  %-26s %8s %8s %8s" % (name, fmt(min(vals)), fmt(statistics.median(vals)), fmt(max(vals)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--app", required=True)
    ap.add_argument("--runs", type=int, default=5, help="first starts, and warm starts, each")
    ap.add_argument("--idle", type=float, default=10.0, help="seconds idle after drawn, before PSS")
    ap.add_argument("--stable", type=float, default=2.0, help="seconds unchanged that end polling")
    ap.add_argument("--interval", type=float, default=0.02, help="seconds between screen grabs")
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--tolerance", type=float, default=0.01,
                    help="fraction of pixels that may differ from the settled screen "
                    "(overlay scrollbars fade out a few seconds after load)")
    ap.add_argument("--env", action="append", default=[], metavar="K=V",
                    help="an extra variable for the app (to compare settings)")
    ap.add_argument("--keep", action="store_true", help="keep the profiles (and app logs)")
    ap.add_argument("--dump", metavar="DIR", help="write each run's distinct frames there (PPM)")
    args = ap.parse_args()

    x = X()
    base = tempfile.mkdtemp(prefix="dropsync-measure.")
    results = []
    try:
        for i in range(args.runs):
            home = fresh_profile(base)
            for label in ("first start", "warm start"):
                r = run_once(x, args.app, home, args, label)
                results.append(r)
                print("run %d %-11s mapped %s  first paint %s  drawn %s  PSS %4.0f MiB (%s)"
                      % (i + 1, label, fmt_s(r["mapped"]), fmt_s(r["first_paint"]),
                         fmt_s(r["drawn"]), r["pss_kib"] / 1024,
                         " ".join("%.0f" % (m[2] / 1024) for m in r["procs"])), flush=True)
    finally:
        if args.keep:
            print("profiles and logs kept in %s" % base)
        else:
            shutil.rmtree(base, ignore_errors=True)

    mib = lambda v: "%.0f MiB" % (v / 1024)
    print()
    print("Dropsync startup: %s, %d runs each, idle %gs" % (args.app, args.runs, args.idle))
    if args.env:
        print("  extra env: %s" % " ".join(args.env))
    print("  %-26s %8s %8s %8s" % ("", "min", "median", "max"))
    secs = lambda v: "%.2fs" % v
    for label in ("first start", "warm start"):
        rs = [r for r in results if r["label"] == label]
        print(stats_row("%s: mapped" % label, [r["mapped"] for r in rs], secs))
        print(stats_row("%s: first paint" % label, [r["first_paint"] for r in rs], secs))
        print(stats_row("%s: drawn" % label, [r["drawn"] for r in rs], secs))
    for label in ("first start", "warm start"):
        rs = [r for r in results if r["label"] == label]
        print(stats_row("idle PSS, %s" % label.split()[0], [r["pss_kib"] for r in rs], mib))
        print(stats_row("  of it private, %s" % label.split()[0], [r["private_kib"] for r in rs], mib))
    shared = sum(1 for r in results if r["other_webkit"])
    if shared:
        print("  note: other WebKit web processes ran during %d of %d memory samples; their\n"
              "  pages of the same libraries count as shared there, lowering PSS and private"
              % (shared, len(results)))
    print("  load average at the end: %s" % " ".join(open("/proc/loadavg").read().split()[:3]))
    # Per process: the warm run with the median total.
    warm = sorted((r for r in results if r["label"] == "warm start"), key=lambda r: r["pss_kib"])
    if warm:
        r = warm[len(warm) // 2]
        print("  idle PSS by process (median warm run, %s total):" % mib(r["pss_kib"]))
        print("    %-26s %8s %8s" % ("", "PSS", "private"))
        for pid, name, kib, priv in sorted(r["procs"], key=lambda m: -m[2]):
            print("    %-26s %8s %8s" % (name, mib(kib), mib(priv)))


if __name__ == "__main__":
    main()
