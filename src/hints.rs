//! The fixes error messages name, in the words of the front end that shows
//! them. The core words its messages for the CLI (a command to run, a key of
//! the sync file); the desktop app passes every message through
//! [`for_app`], which puts each of those fixes in the app's words (a screen,
//! a button, a field). Messages build their fixes from these constants, so
//! the two wordings cannot drift apart.

/// One fix, as the CLI says it and as the app says it.
#[derive(Debug, Clone, Copy)]
pub struct Hint {
    pub cli: &'static str,
    pub app: &'static str,
}

pub const RECONNECT_DROPBOX: Hint = Hint {
    cli: "run `dropsync auth dropbox` to connect again",
    app: "reconnect the account under Connections",
};
pub const CONNECT_ACCOUNT: Hint = Hint {
    cli: "run `dropsync auth dropbox` with that account",
    app: "connect that account under Connections, or choose another in the sync's Dropbox section",
};
pub const CONNECT_AGAIN_NEW_CODE: Hint = Hint {
    cli: "run `dropsync auth dropbox` again and use the new code",
    app: "connect again and use the new code",
};
pub const CONNECT_AGAIN: Hint = Hint {
    cli: "run `dropsync auth dropbox` again",
    app: "connect again under Connections",
};
pub const CONNECT_DROPBOX: Hint = Hint {
    cli: "run `dropsync auth dropbox`",
    app: "connect Dropbox under Connections",
};
pub const ENV_TOKENS: Hint = Hint {
    cli: " (or set DROPSYNC_DROPBOX_REFRESH_TOKEN and DROPSYNC_DROPBOX_APP_KEY)",
    app: "",
};
pub const DISCONNECT_AND_CONNECT: Hint = Hint {
    cli: "run `dropsync auth disconnect` and connect again",
    app: "disconnect the account under Connections and connect it again",
};
pub const NAME_ACCOUNT: Hint = Hint {
    cli: "name one with [destination] account = \"email\"",
    app: "choose one in the sync's Dropbox section",
};
pub const MARK_DELIVERED: Hint = Hint {
    cli: "run `dropsync reset --mark-delivered` on the sync file to take the model's current result as delivered, or `dropsync reset` to send every row again",
    app: "use Mark as delivered on the sync's History tab to take the model's current rows as delivered, or Reset snapshot there to send every row again",
};
pub const RESET: Hint = Hint {
    cli: "run `dropsync reset`",
    app: "reset the snapshot (the sync's History tab)",
};
pub const CREATE_DROPBOX_FOLDER: Hint = Hint {
    cli: "create it with `dropsync dropbox mkdir` or fix [destination] path",
    app: "create it from the sync editor's folder browser, or choose another folder",
};
pub const FIX_SQL: Hint = Hint {
    cli: "Fix the SQL in [model] sql and run `dropsync check` again",
    app: "Fix the model's SQL and check again",
};
pub const CHOOSE_KEY: Hint = Hint {
    cli: "Set [model] primary_key to one of them",
    app: "Choose one of them as the primary key",
};

pub const TEMPLATE_TYPE_TEXT: Hint = Hint {
    cli: "fix the template or set type = \"text\"",
    app: "fix the template or choose the type text in the column mapper",
};
pub const MAP_AS_TEXT: Hint = Hint {
    cli: "map the column with type = \"text\"",
    app: "map the column as a template of type text in the column mapper",
};

/// Longest CLI wording first, so that a hint that extends another (e.g.
/// "... again and use the new code") is replaced whole.
const ALL: [Hint; 15] = [
    CONNECT_ACCOUNT,
    CONNECT_AGAIN_NEW_CODE,
    RECONNECT_DROPBOX,
    CONNECT_AGAIN,
    CONNECT_DROPBOX,
    ENV_TOKENS,
    DISCONNECT_AND_CONNECT,
    NAME_ACCOUNT,
    MARK_DELIVERED,
    RESET,
    CREATE_DROPBOX_FOLDER,
    FIX_SQL,
    CHOOSE_KEY,
    TEMPLATE_TYPE_TEXT,
    MAP_AS_TEXT,
];

/// The sync file's keys as a person editing in the app knows them.
const FIELDS: [(&str, &str); 6] = [
    ("[model] sql", "the model's SQL"),
    ("[model] primary_key", "the model's primary key"),
    ("[source] path", "the source's path"),
    ("[source] url", "the source's URL"),
    ("[destination] path", "the sync's folder"),
    ("[sync] filename", "the filename"),
];

/// `message` with every CLI fix put in the app's words.
pub fn for_app(message: &str) -> String {
    let mut out = message.to_string();
    for h in ALL {
        if out.contains(h.cli) {
            out = out.replace(h.cli, h.app);
        }
    }
    for (key, words) in FIELDS {
        if out.contains(key) {
            out = out.replace(key, words);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cli_fix_has_app_words_without_commands_or_file_keys() {
        for h in ALL {
            let app = for_app(&format!("something failed; {}", h.cli));
            assert!(!app.contains("dropsync "), "{app}");
            assert!(!app.contains("DROPSYNC_"), "{app}");
            assert!(!app.contains("[model]"), "{app}");
            assert!(!app.contains("[destination]"), "{app}");
        }
    }

    #[test]
    fn a_longer_hint_is_not_cut_by_a_shorter_one() {
        let m = format!("the code was refused; {}", CONNECT_AGAIN_NEW_CODE.cli);
        assert_eq!(
            for_app(&m),
            "the code was refused; connect again and use the new code"
        );
        let m = format!("token revoked; {}", RECONNECT_DROPBOX.cli);
        assert_eq!(
            for_app(&m),
            "token revoked; reconnect the account under Connections"
        );
    }
}
