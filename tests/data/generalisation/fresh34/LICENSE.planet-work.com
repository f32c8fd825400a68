fvanniere/lua_sandbox_pw @ 337065ff3ddb34a2a861096f4f53e721ecebda33 : MPL-2.0
File header of syslog_parser/tests/test_parser.lua:
-- This Source Code Form is subject to the terms of the Mozilla Public
-- License, v. 2.0. If a copy of the MPL was not distributed with this
-- file, You can obtain one at http://mozilla.org/MPL/2.0/.
