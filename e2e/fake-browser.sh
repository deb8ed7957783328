#!/bin/sh
# Stands in for the system browser in the end-to-end tests: "opening" the
# Dropbox authorization page follows the emulator's redirect back to the app's
# listener on 127.0.0.1, as a person clicking "Allow" would.
exec curl -fsS -L --max-time 20 -o /dev/null "$1"
