//! The Lua scripts, each built once and run with `EVALSHA` (the `redis` crate
//! loads a script again when the server answers `NOSCRIPT`, e.g. after a
//! restart).

use std::sync::LazyLock;

use redis::Script;

macro_rules! queue_script {
    ($name:ident, $file:literal) => {
        pub(crate) static $name: LazyLock<Script> = LazyLock::new(|| {
            Script::new(concat!(
                include_str!("lua/common.lua"),
                "\n",
                include_str!($file)
            ))
        });
    };
}

pub(crate) static OPEN: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/open.lua")));
queue_script!(INSERT, "lua/insert.lua");
queue_script!(CLAIM, "lua/claim.lua");
queue_script!(COMPLETE, "lua/complete.lua");
queue_script!(DEFER, "lua/defer.lua");
queue_script!(EXTEND, "lua/extend.lua");
queue_script!(REAP, "lua/reap.lua");
queue_script!(CANCEL, "lua/cancel.lua");
queue_script!(RESCHEDULE, "lua/reschedule.lua");
queue_script!(GET, "lua/get.lua");
queue_script!(STATS, "lua/stats.lua");
queue_script!(DESTROY, "lua/destroy.lua");

pub(crate) static LIMIT_CONNECTION: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/limit_connection.lua")));
pub(crate) static LIMIT_RATE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/limit_rate.lua")));
pub(crate) static LIMIT_SLOT: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/limit_slot.lua")));
