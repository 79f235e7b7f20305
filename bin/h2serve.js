#!/bin/sh
':' //; exec node --max-semi-space-size=1 "$0" "$@"
// Line 2 starts Node with h2serve's V8 flag (a 1 MiB young generation, see README) when this file
// runs as a command; to JavaScript it is a string and a comment. (`#!/usr/bin/env -S node ...`
// would say it in one line, but BusyBox's env, Alpine's, has no -S.)
import '../dist/bin/h2serve.mjs';
