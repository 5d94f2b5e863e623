#!/usr/bin/env python3
"""Writes codegen/omitempty.json: per k8s.io/api definition, the JSON fields whose zero value means
"unset" (Go value fields, not pointers, tagged `omitempty` (scalars) or `omitzero`), flattened
through inline (embedded) structs. Go writes such fields to protobuf even when zero, and upstream's
JSON leaves them out, so kapi's protobuf decoder must too; Go pointers (`replicas`, `runAsUser`)
keep their zeros.

The facts come from the struct tags and field kinds in the reflection data of a kubectl binary
(a statically linked, non-PIE linux/amd64 Go executable): every struct type reachable from the
`.typelink` section, as Go's runtime lays types out (abi.Type, 48 bytes; StructType fields at +56).

    .tools/bin/python tools/omitempty.py [.tools/bin/kubectl] > codegen/omitempty.json
"""
import json
import os
import re
import struct
import subprocess
import sys

KINDS = {1: "bool", 2: "int", 3: "int8", 4: "int16", 5: "int32", 6: "int64", 7: "uint", 8: "uint8", 9: "uint16",
         10: "uint32", 11: "uint64", 13: "float32", 14: "float64", 17: "array", 20: "interface", 21: "map",
         22: "ptr", 23: "slice", 24: "string", 25: "struct"}
SCALARS = {"bool", "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64",
           "float32", "float64", "string"}


def read_types(path):
    f = open(path, "rb").read()
    shoff = struct.unpack_from("<Q", f, 0x28)[0]
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", f, 0x3A)
    raw = [struct.unpack_from("<IIQQQQ", f, shoff + i * shentsize) for i in range(shnum)]
    strtab = raw[shstrndx][4]
    secs = {}
    for name, _typ, _flags, addr, off, size in raw:
        end = f.index(b"\0", strtab + name)
        secs[f[strtab + name:end].decode()] = (addr, off, size)

    def off(a):
        for addr, o, size in secs.values():
            if o and addr <= a < addr + size:
                return o + (a - addr)
        raise KeyError(hex(a))

    base = secs[".rodata"][0]
    u8 = lambda a: f[off(a)]
    i32 = lambda a: struct.unpack_from("<i", f, off(a))[0]
    u64 = lambda a: struct.unpack_from("<Q", f, off(a))[0]

    def varint(a):
        v, s = 0, 0
        while True:
            b = u8(a)
            a += 1
            v |= (b & 0x7F) << s
            s += 7
            if b < 0x80:
                return v, a

    def name(a):
        flags = u8(a)
        n, p = varint(a + 1)
        text = f[off(p):off(p) + n].decode("utf8", "replace")
        tag = ""
        if flags & 2:
            tn, q = varint(p + n)
            tag = f[off(q):off(q) + tn].decode("utf8", "replace")
        return text, tag

    def type_name(t):
        text, _ = name(base + i32(t + 40))
        return text[1:] if u8(t + 20) & 2 else text  # tflagExtraStar

    kind = lambda t: u8(t + 23) & 0x1F
    addr, o, size = secs[".typelink"]
    stack = [base + struct.unpack_from("<i", f, o + 4 * i)[0] for i in range(size // 4)]
    seen, out = set(), {}
    while stack:
        t = stack.pop()
        if t in seen:
            continue
        seen.add(t)
        try:
            k = kind(t)
        except KeyError:
            continue
        if k in (17, 22, 23):
            stack.append(u64(t + 48))
        elif k == 21:
            stack += [u64(t + 48), u64(t + 56)]
        elif k == 25:
            fields = []
            for i in range(u64(t + 64)):
                fa = u64(t + 56) + 24 * i
                fname, tag = name(u64(fa))
                ft = u64(fa + 8)
                stack.append(ft)
                fields.append((fname, tag, KINDS.get(kind(ft), str(kind(ft))), type_name(ft)))
            pkg = name(base + i32(t + 80))[0] if u8(t + 20) & 1 else ""  # uncommon type's PkgPath
            out[pkg + "|" + type_name(t)] = fields
    return out


def main():
    kubectl = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".tools", "bin", "kubectl")
    version = subprocess.run([kubectl, "version", "--client"], capture_output=True, text=True).stdout.split("\n")[0].split(": ")[-1]
    go = read_types(os.path.realpath(kubectl))

    def fields(key, depth=0):
        out = []
        for _fname, tag, kind, tname in go.get(key, []):
            m = re.search(r'json:"([^"]*)"', tag)
            parts = (m.group(1) if m else "").split(",")
            if parts[0] == "-":
                continue
            if parts[0] == "" and kind == "struct":  # inline (embedded) struct
                sub = key.split("|")[0] + "|" + tname
                if sub in go and depth < 5:
                    out += fields(sub, depth + 1)
                continue
            if parts[0] and kind != "ptr" and (("omitempty" in parts and kind in SCALARS) or "omitzero" in parts):
                out.append(parts[0])
        return out

    types = {}
    for key in go:
        pkg, t = key.split("|")
        short = t.split(".", 1)[-1]
        if pkg.startswith("k8s.io/api/") and "." in t and short[:1].isupper() and "[" not in short:
            f = sorted(set(fields(key)))
            if f:
                types["io." + pkg.replace("k8s.io/", "k8s.").replace("/", ".") + "." + short] = f
    doc = {
        "about": "Written by tools/omitempty.py; do not edit by hand. Go facts codegen needs for protobuf decoding: "
        "per k8s.io/api definition, the JSON fields whose zero value means unset: Go value fields (not pointers) "
        "tagged omitempty (scalars) or omitzero, flattened through inline structs. Go writes them to protobuf even "
        "when zero; upstream's JSON leaves them out. Read from the struct tags in the reflection data of kubectl "
        + version + " (k8s.io/api of that release).",
        "types": dict(sorted(types.items())),
    }
    print(json.dumps(doc, indent=1, ensure_ascii=False))


main()
