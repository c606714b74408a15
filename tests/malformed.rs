//! A table of malformed scenarios and the one error line each must produce: `FILE:LINE:COL: message (field)`.
//! Each case edits the base fixture (replace the first occurrence of a fragment) and optionally adds overrides.

mod common;

struct Case {
    name: &'static str,
    replace: (&'static str, &'static str),
    overrides: &'static [&'static str],
    expected: &'static str,
}

/// A Nakamoto chain over a gossip network of 10 nodes with one more line in `[chains.network]` (line 87).
macro_rules! gossip_chain {
    ($extra:literal) => {
        concat!(
            "[[chains]]\nid = \"n\"\nconsensus = \"nakamoto\"\nblock_interval = \"10m\"\nminers = [1, 1]\n",
            "block_capacity = 1000\ntx_units = 10\nnative = \"B\"\nnative_decimals = 8\nnative_price_usd = 1\n\n",
            "[chains.network]\nmode = \"gossip\"\nnodes = 10\n",
            $extra,
            "\n\n[[rails]]"
        )
    };
}

/// A PvP chain rail on the fixture's corridor whose receiving bank sells USD from an inventory (after the
/// corridor: `rails[1]`, `corridors[0].routes[1]` on line 89).
const PVP_WITH_INVENTORY: &str = "path = [\"a\", \"b\", \"c\"]\n\n[[corridors.routes]]\nrail = \"coin\"\n\
                                  path = [\"a\", \"c\"]\n\n[[chains]]\nid = \"p\"\nconsensus = \"bft\"\n\
                                  block_interval = \"2s\"\nvalidators = 4\nmessage_delay = { fixed = \"50ms\" }\n\
                                  block_capacity = 1000\ntx_units = 10\nnative = \"P\"\nnative_decimals = 2\n\
                                  native_price_usd = 1\n\n[[rails]]\nid = \"coin\"\nkind = \"chain\"\n\
                                  chain = \"p\"\nasset = \"WCBDC\"\nasset_price_usd = 1\npvp = true\n\n\
                                  [[inventories]]\nowner = \"c\"\ncurrency = \"USD\"\nbalance = 1000";

const CASES: &[Case] = &[
    Case {
        name: "unknown top-up policy",
        replace: (
            "balance = 1000000000",
            "balance = 1000000000\ntopup = { policy = \"weekly\" }",
        ),
        overrides: &[],
        expected: "base.toml:45:20: unknown policy \"weekly\" (\"threshold\", \"daily\" or \"none\") (nostros[0].topup.policy)",
    },
    Case {
        name: "unknown top-up name",
        replace: (
            "balance = 1000000000",
            "balance = 1000000000\ntopup = \"weekly\"",
        ),
        overrides: &[],
        expected: "base.toml:45:9: unknown top-up \"weekly\" (\"daily\", \"none\", or a table { policy = \"threshold\", ... }) (nostros[0].topup)",
    },
    Case {
        name: "unknown field in a top-up policy",
        replace: (
            "balance = 1000000000",
            "balance = 1000000000\ntopup = { policy = \"threshold\", threshold = 1, target = 2, retries = 3 }",
        ),
        overrides: &[],
        expected: "base.toml:45:60: unknown field `retries`, expected one of `policy`, `threshold`, `target`, `delay`, `calendar`, `fee_usd`, `fee_bps` (nostros[0].topup.retries)",
    },
    Case {
        name: "threshold policy without a threshold",
        replace: (
            "balance = 1000000000",
            "balance = 1000000000\ntopup = { policy = \"threshold\", target = 2 }",
        ),
        overrides: &[],
        expected: "base.toml:45:9: a threshold policy needs threshold (major units of the position's currency) (nostros[0].topup)",
    },
    Case {
        name: "threshold policy without a target",
        replace: (
            "balance = 1000000000",
            "balance = 1000000000\ntopup = { policy = \"threshold\", threshold = 2 }",
        ),
        overrides: &[],
        expected: "base.toml:45:9: a threshold policy needs target (major units of the position's currency) (nostros[0].topup)",
    },
    Case {
        name: "target below the threshold",
        replace: (
            "balance = 1000000000",
            "balance = 1000000000\ntopup = { policy = \"threshold\", threshold = 5, target = 2 }",
        ),
        overrides: &[],
        expected: "base.toml:45:57: must not be below the threshold (funding brings the balance back up to the target) (nostros[0].topup.target)",
    },
    Case {
        name: "negative threshold",
        replace: (
            "balance = 1000000000",
            "balance = 1000000000\ntopup = { policy = \"threshold\", threshold = -5, target = 2 }",
        ),
        overrides: &[],
        expected: "base.toml:45:45: must be a non-negative number, got -5 (nostros[0].topup.threshold)",
    },
    Case {
        name: "funding delay without a unit",
        replace: (
            "balance = 1000000000",
            "balance = 1000000000\ntopup = { policy = \"threshold\", threshold = 1, target = 2, delay = \"2\" }",
        ),
        overrides: &[],
        expected: "base.toml:45:68: bad duration \"2\": a unit is required (us, ms, s, m, h, d, w) (nostros[0].topup.delay)",
    },
    Case {
        name: "funding delay beyond a month",
        replace: (
            "balance = 1000000000",
            "balance = 1000000000\ntopup = { policy = \"threshold\", threshold = 1, target = 2, delay = \"31d\" }",
        ),
        overrides: &[],
        expected: "base.toml:45:68: must be at most 30d (nostros[0].topup.delay)",
    },
    Case {
        name: "funding calendar that does not exist",
        replace: (
            "balance = 1000000000",
            "balance = 1000000000\ntopup = { policy = \"threshold\", threshold = 1, target = 2, calendar = \"fed\" }",
        ),
        overrides: &[],
        expected: "base.toml:45:71: no calendar named \"fed\" under [calendars] (nostros[0].topup.calendar)",
    },
    Case {
        name: "negative rebalancing fee",
        replace: (
            "balance = 1000000000",
            "balance = 1000000000\ntopup = { policy = \"threshold\", threshold = 1, target = 2, fee_usd = -1 }",
        ),
        overrides: &[],
        expected: "base.toml:45:70: must be a non-negative number, got -1 (nostros[0].topup.fee_usd)",
    },
    Case {
        name: "rebalancing fee of 100%",
        replace: (
            "balance = 1000000000",
            "balance = 1000000000\ntopup = { policy = \"threshold\", threshold = 1, target = 2, fee_bps = 10000 }",
        ),
        overrides: &[],
        expected: "base.toml:45:70: must be below 10000 (100%) (nostros[0].topup.fee_bps)",
    },
    Case {
        name: "a threshold field on a daily top-up",
        replace: (
            "balance = 1000000000",
            "balance = 1000000000\ntopup = { policy = \"daily\", fee_usd = 5 }",
        ),
        overrides: &[],
        expected: "base.toml:45:39: only a threshold policy has this field (nostros[0].topup.fee_usd)",
    },
    Case {
        name: "a top-up that is a number",
        replace: ("balance = 1000000000", "balance = 1000000000\ntopup = 5"),
        overrides: &[],
        expected: "base.toml:45:9: invalid type: integer `5`, expected a top-up name (\"daily\", \"none\") or a table such as { policy = \"threshold\", ... } (nostros[0].topup)",
    },
    Case {
        name: "negative liquidity scale",
        replace: ("[limits]", "[liquidity]\nscale = -1\n\n[limits]"),
        overrides: &[],
        expected: "base.toml:8:9: must be a non-negative number, got -1 (liquidity.scale)",
    },
    Case {
        name: "unknown field under [liquidity]",
        replace: ("[limits]", "[liquidity]\nfactor = 2\n\n[limits]"),
        overrides: &[],
        expected: "base.toml:8:1: unknown field `factor`, expected `scale` (liquidity.factor)",
    },
    Case {
        name: "a liquidity scale with nothing to scale",
        replace: (
            "[[nostros]]\nowner = \"a\"\nat = \"b\"\ncurrency = \"USD\"\nbalance = 1000000000\n\n[[nostros]]\nowner = \"c\"\nat = \"b\"\ncurrency = \"USD\"\nbalance = 0\ntopup = \"none\"\n",
            "[liquidity]\nscale = 2\n",
        ),
        overrides: &[],
        expected: "base.toml:41:9: nothing to scale: the scenario has no nostro, inventory or ledger member limit (liquidity.scale)",
    },
    Case {
        name: "a liquidity scale past the money bounds",
        replace: ("", ""),
        overrides: &["liquidity.scale=1000"],
        expected: "--set liquidity.scale=1000: 1000 scales nostros[0].balance to 1000000000000, above the limit of 100000000000 (liquidity.scale)",
    },
    Case {
        name: "a liquidity scale that is not a number",
        replace: ("", ""),
        overrides: &["liquidity.scale=lots"],
        expected: "--set liquidity.scale=lots: invalid type: string \"lots\", expected f64 (liquidity.scale)",
    },
    Case {
        name: "a rate for a currency the scenario does not have",
        replace: (
            "path = [\"a\", \"b\", \"c\"]",
            "path = [\"a\", \"b\", \"c\"]\n\n[rates]\nUSD = 4.33\nXYZ = 2",
        ),
        overrides: &[],
        expected: "base.toml:89:7: unknown currency \"XYZ\": the scenario has no FX rate or asset by that code (rates.XYZ)",
    },
    Case {
        name: "a rate written as a fraction of more than 100%",
        replace: (
            "path = [\"a\", \"b\", \"c\"]",
            "path = [\"a\", \"b\", \"c\"]\n\n[rates]\nUSD = 433",
        ),
        overrides: &[],
        expected: "base.toml:88:7: an annual rate in percent, from 0 to 100 (4.33 for 4.33%) (rates.USD)",
    },
    Case {
        name: "a rate for a currency no payment holds has no effect",
        replace: (
            "[[rails]]",
            "[[fx]]\npair = \"USD/MXN\"\nmid = 17\n\n[rates]\nUSD = 4.33\nMXN = 7\n\n[[rails]]",
        ),
        overrides: &[],
        expected: "base.toml:73:7: no payment holds MXN: this rate would have no effect (rates.MXN)",
    },
    Case {
        name: "a currency payments hold without a rate",
        replace: (
            "[[rails]]",
            "[[fx]]\npair = \"USD/MXN\"\nmid = 17\n\n[rates]\nUSD = 4.33\n\n[[rails]]",
        ),
        overrides: &[
            "corridors[0].dest_currency=\"MXN\"",
            "corridors[0].routes[0].convert_at=\"c\"",
        ],
        expected: "base.toml:71:1: no rate for MXN, which payments hold on their way: give every such currency one \
                   (e.g. MXN = 4.33, in percent a year; an asset's rate is the cost of the money tied up in it) (rates)",
    },
    Case {
        name: "pvp on a correspondent rail",
        replace: (
            "return_delay = { fixed = \"2d\" }",
            "return_delay = { fixed = \"2d\" }\npvp = true",
        ),
        overrides: &[],
        expected: "base.toml:73:7: only a chain rail has this field (rails[0].pvp)",
    },
    Case {
        name: "a PvP rail whose receiving bank sells from an inventory",
        replace: ("path = [\"a\", \"b\", \"c\"]", PVP_WITH_INVENTORY),
        overrides: &[],
        expected: "base.toml:89:14: on a PvP rail the receiving bank converts on the platform at the commit: it cannot \
                   sell USD from an inventory (remove the inventory or pvp) (corridors[0].routes[1].path[1])",
    },
    Case {
        name: "a ledger field on a correspondent rail",
        replace: (
            "return_delay = { fixed = \"2d\" }",
            "return_delay = { fixed = \"2d\" }\nsettle_every = \"1h\"",
        ),
        overrides: &[],
        expected: "base.toml:73:16: only a ledger rail has this field (rails[0].settle_every)",
    },
    Case {
        name: "a ledger rail without its ledger",
        replace: ("kind = \"correspondent\"", "kind = \"ledger\""),
        overrides: &[],
        expected: "base.toml:67:1: a ledger rail names its ledger (a chain with consensus = \"bft\") (rails[0].chain)",
    },
    Case {
        name: "a link field on a correspondent rail",
        replace: (
            "return_delay = { fixed = \"2d\" }",
            "return_delay = { fixed = \"2d\" }\ntx_limit = 1000",
        ),
        overrides: &[],
        expected: "base.toml:73:12: only an ips_link rail has this field (rails[0].tx_limit)",
    },
    Case {
        name: "via on a correspondent route",
        replace: (
            "path = [\"a\", \"b\", \"c\"]",
            "path = [\"a\", \"b\", \"c\"]\nvia = [\"instant\", \"instant\"]",
        ),
        overrides: &[],
        expected: "base.toml:86:7: only a route of an ips_link rail has this field (corridors[0].routes[0].via)",
    },
    Case {
        name: "ips link route without one system per hop",
        replace: ("kind = \"correspondent\"", "kind = \"ips_link\""),
        overrides: &[],
        expected: "base.toml:83:1: one instant payment system per hop: 2 for a path of 3 banks (corridors[0].routes[0].via)",
    },
    Case {
        name: "ips link hop over a batch system",
        replace: (
            "path = [\"a\", \"b\", \"c\"]",
            "path = [\"a\", \"b\", \"c\"]\nvia = [\"instant\", \"ach\"]",
        ),
        overrides: &["rails[0].kind=\"ips_link\""],
        expected: "base.toml:86:19: \"ach\" is not an instant payment system (kind \"instant\") (corridors[0].routes[0].via[1])",
    },
    Case {
        name: "unknown action past the screening budget",
        replace: (
            "return_delay = { fixed = \"2d\" }",
            "return_delay = { fixed = \"2d\" }\nscreening_budget = \"30s\"\non_screening_timeout = \"hold\"",
        ),
        overrides: &["rails[0].kind=\"ips_link\""],
        expected: "base.toml:74:24: unknown action \"hold\" (\"return\" or \"review\") (rails[0].on_screening_timeout)",
    },
    Case {
        name: "non-positive transaction limit",
        replace: (
            "return_delay = { fixed = \"2d\" }",
            "return_delay = { fixed = \"2d\" }\ntx_limit = 0",
        ),
        overrides: &["rails[0].kind=\"ips_link\""],
        expected: "base.toml:73:12: a positive amount in major units of the source currency (at most 1e12) (rails[0].tx_limit)",
    },
    Case {
        name: "unknown top-level field",
        replace: ("seed = 1\n", "seed = 1\ncolour = \"blue\"\n"),
        overrides: &[],
        expected: "base.toml:6:1: unknown field `colour`, expected one of `name`",
    },
    Case {
        name: "unknown field in the second bank",
        replace: ("lifting_fee_usd = 20", "lifting_fees_usd = 20"),
        overrides: &[],
        expected: "base.toml:31:1: unknown field `lifting_fees_usd`, expected one of `id`",
    },
    Case {
        name: "wrong type",
        replace: ("payments_per_day = 500", "payments_per_day = \"many\""),
        overrides: &[],
        expected: "base.toml:80:20: invalid type: string \"many\", expected f64 (corridors[0].payments_per_day)",
    },
    Case {
        name: "syntax error",
        replace: ("name = \"base\"", "name = \"base"),
        overrides: &[],
        expected: "base.toml:2:13: ",
    },
    Case {
        name: "missing required field",
        replace: ("id = \"a\"\ncountry = \"US\"\n", "id = \"a\"\n"),
        overrides: &[],
        expected: "base.toml:19:1: missing field `country` (banks[0].country)",
    },
    Case {
        name: "route through a bank that does not exist",
        replace: (
            "path = [\"a\", \"b\", \"c\"]",
            "path = [\"a\", \"x\", \"c\"]",
        ),
        overrides: &[],
        expected: "base.toml:85:14: no bank with id \"x\" (corridors[0].routes[0].path[1])",
    },
    Case {
        name: "negative rate",
        replace: ("payments_per_day = 500", "payments_per_day = -5"),
        overrides: &[],
        expected: "base.toml:80:20: must be a non-negative number, got -5 (corridors[0].payments_per_day)",
    },
    Case {
        name: "corridor without a rail",
        replace: (
            "[[corridors.routes]]\nrail = \"wire\"\npath = [\"a\", \"b\", \"c\"]\n",
            "",
        ),
        overrides: &[],
        expected: "base.toml:74:1: corridor \"USD-USD\" has no rail: add a [[corridors.routes]] entry (corridors[0].routes)",
    },
    Case {
        name: "currency without an FX rate",
        replace: ("dest_currency = \"USD\"", "dest_currency = \"MXN\""),
        overrides: &[],
        expected: "base.toml:79:17: currency MXN has no FX rate: add [[fx]] pair = \"USD/MXN\" (corridors[0].dest_currency)",
    },
    Case {
        name: "unknown currency",
        replace: ("dest_currency = \"USD\"", "dest_currency = \"XYZ\""),
        overrides: &[],
        expected: "base.toml:79:17: unknown currency \"XYZ\" (ISO 4217 code) (corridors[0].dest_currency)",
    },
    Case {
        name: "time zone that does not exist",
        replace: ("zone = \"America/New_York\"", "zone = \"America/Atlantis\""),
        overrides: &[],
        expected: "base.toml:11:8: unknown time zone \"America/Atlantis\" (use an IANA name such as \"Europe/Paris\") (calendars.ny.zone)",
    },
    Case {
        name: "duration without a unit",
        replace: ("duration = \"7d\"", "duration = \"7\""),
        overrides: &[],
        expected: "base.toml:4:12: bad duration \"7\": a unit is required (us, ms, s, m, h, d, w) (duration)",
    },
    Case {
        name: "share outside [0, 1]",
        replace: (
            "lifting_fee_usd = 20",
            "lifting_fee_usd = 20\nstp_rate = 1.5",
        ),
        overrides: &[],
        expected: "base.toml:32:12: must be between 0 and 1, got 1.5 (banks[1].stp_rate)",
    },
    Case {
        name: "unknown calendar",
        replace: ("calendar = \"ny\"", "calendar = \"paris\""),
        overrides: &[],
        expected: "base.toml:22:12: no calendar named \"paris\" under [calendars] (banks[0].calendar)",
    },
    Case {
        name: "hop without a nostro",
        replace: ("path = [\"a\", \"b\", \"c\"]", "path = [\"a\", \"c\"]"),
        overrides: &[],
        expected: "base.toml:85:14: no nostro in USD between \"a\" and \"c\" to settle this hop (corridors[0].routes[0].path[1])",
    },
    Case {
        name: "bad weekday",
        replace: (
            "cutoff = \"17:00\"\n",
            "cutoff = \"17:00\"\nweekend = [\"Caturday\"]\n",
        ),
        overrides: &[],
        expected: "base.toml:14:12: \"Caturday\" is not a weekday (Mon, Tue, ... Sun) (calendars.ny.weekend[0])",
    },
    Case {
        name: "bad value given by --set",
        replace: ("", ""),
        overrides: &["duration=soon"],
        expected: "--set duration=soon: bad duration \"soon\": expected a number at \"soon\" (duration)",
    },
    Case {
        name: "--set on a field that does not exist",
        replace: ("", ""),
        overrides: &["banks[7].stp_rate=0.5"],
        expected: "base.toml: --set `banks[7].stp_rate=0.5`",
    },
    Case {
        name: "--set without a value",
        replace: ("", ""),
        overrides: &["duration"],
        expected: "base.toml: --set `duration`: expected PATH=VALUE",
    },
    Case {
        name: "settlement delay on an instant rail",
        replace: (
            "capacity_per_s = 1\n",
            "capacity_per_s = 1\nsettlement_delay = \"1h\"\n",
        ),
        overrides: &[],
        expected: "base.toml:66:20: only ACH rails settle after a delay (RTGS and instant rails settle on submission): leave it out (domestic_rails[1].settlement_delay)",
    },
    Case {
        name: "corridor origin country unlike its first bank's",
        replace: ("from_country = \"US\"", "from_country = \"GB\""),
        overrides: &[],
        expected: "base.toml:76:16: is \"GB\" but route 0's first bank \"a\" is in \"US\" (corridors[0].from_country)",
    },
    Case {
        name: "corridor destination country unlike its last bank's",
        replace: ("", ""),
        overrides: &["banks[2].country=\"MX\""],
        expected: "base.toml:77:14: is \"US\" but route 0's last bank \"c\" is in \"MX\" (corridors[0].to_country)",
    },
    Case {
        name: "propagation on a proof-of-stake chain",
        replace: ("[[rails]]", POS_CHAIN),
        overrides: &[],
        expected: "base.toml:77:15: propagation applies to nakamoto chains only; pos blocks reach every node when produced here: leave it out (chains[0].propagation)",
    },
    Case {
        name: "an empty-block interval on a chain that makes empty blocks",
        replace: ("[[rails]]", BFT_CHAIN),
        overrides: &["chains[0].empty_block_interval=\"30s\""],
        expected: "--set chains[0].empty_block_interval=\"30s\": applies only with empty_blocks = false (a chain that \
                   idles) (chains[0].empty_block_interval)",
    },
    Case {
        name: "a zero empty-block interval",
        replace: ("[[rails]]", BFT_CHAIN),
        overrides: &[
            "chains[0].empty_blocks=false",
            "chains[0].empty_block_interval=\"0s\"",
        ],
        expected: "--set chains[0].empty_block_interval=\"0s\": must be positive (chains[0].empty_block_interval)",
    },
    Case {
        name: "empty blocks on a proof-of-stake chain",
        replace: ("[[rails]]", BFT_CHAIN),
        overrides: &[
            "chains[0].consensus=\"pos\"",
            "chains[0].empty_blocks=false",
        ],
        expected: "--set chains[0].empty_blocks=false: not a parameter of pos consensus (chains[0].empty_blocks)",
    },
    Case {
        name: "propagation on a BFT chain",
        replace: ("[[rails]]", POS_CHAIN),
        overrides: &["chains[0].consensus=\"bft\""],
        expected: "base.toml:77:15: propagation applies to nakamoto chains only; bft blocks reach every node when produced here: leave it out (chains[0].propagation)",
    },
    Case {
        name: "zero servers on a domestic rail",
        replace: ("capacity_per_s = 1\n", "capacity_per_s = 1\nservers = 0\n"),
        overrides: &[],
        expected: "base.toml:66:11: must be at least 1 (leave it out for unlimited) (domestic_rails[1].servers)",
    },
    Case {
        name: "zero staff at a desk",
        replace: ("send_fee_usd = 10", "send_fee_usd = 10\nreview_staff = 0"),
        overrides: &[],
        expected: "base.toml:25:16: must be at least 1 (leave it out for unlimited) (banks[0].review_staff)",
    },
    Case {
        name: "unknown desk order",
        replace: (
            "send_fee_usd = 10",
            "send_fee_usd = 10\ndesk_order = \"lifo\"",
        ),
        overrides: &[],
        expected: "base.toml:25:14: unknown order \"lifo\" (\"fifo\" or \"amount\") (banks[0].desk_order)",
    },
    Case {
        name: "a bound below a fixed delay",
        replace: (
            "processing = { fixed = \"1m\" }",
            "processing = { fixed = \"1m\", max = \"30s\" }",
        ),
        overrides: &[],
        expected: "base.toml:23:36: max must not be below the fixed delay (banks[0].processing.max)",
    },
    Case {
        name: "a bound with no shape",
        replace: (
            "processing = { fixed = \"1m\" }",
            "processing = { max = \"30s\" }",
        ),
        overrides: &[],
        expected: "base.toml:23:14: max bounds a shape (fixed, mean, median), or is a uniform's top beside min (banks[0].processing)",
    },
    Case {
        name: "unknown gossip relay",
        replace: ("[[rails]]", gossip_chain!("relay = \"push\"")),
        overrides: &[],
        expected: "base.toml:81:9: unknown relay \"push\" (\"full\" or \"compact\") (chains[0].network.relay)",
    },
    Case {
        name: "a compact-relay field under full relay",
        replace: ("[[rails]]", gossip_chain!("missing_share = 0.2")),
        overrides: &[],
        expected: "base.toml:81:17: applies to relay = \"compact\" only (chains[0].network.missing_share)",
    },
    Case {
        name: "a share of compact blocks missing transactions above one",
        replace: (
            "[[rails]]",
            gossip_chain!("relay = \"compact\"\nmissing_share = 1.5"),
        ),
        overrides: &[],
        expected: "base.toml:82:17: must be between 0 and 1, got 1.5 (chains[0].network.missing_share)",
    },
    Case {
        name: "bandwidth for every node and per region",
        replace: (
            "[[rails]]",
            gossip_chain!("bandwidth_mbps = 10\nregion_bandwidth_mbps = [10]"),
        ),
        overrides: &[],
        expected: "base.toml:82:25: give bandwidth_mbps (every node) or region_bandwidth_mbps (per region), not both (chains[0].network.region_bandwidth_mbps)",
    },
    Case {
        name: "region shares of the wrong length",
        replace: ("[[rails]]", gossip_chain!("region_shares = [0.5, 0.5]")),
        overrides: &[],
        expected: "base.toml:81:17: one share per region (1) (chains[0].network.region_shares)",
    },
    Case {
        name: "vote size on a nakamoto chain",
        replace: ("[[rails]]", gossip_chain!("vote_bytes = 100")),
        overrides: &[],
        expected: "base.toml:81:14: only BFT votes and proof-of-stake attestations travel as messages (nakamoto has none): leave it out (chains[0].network.vote_bytes)",
    },
    Case {
        name: "a gossip field on an abstract network",
        replace: ("[[rails]]", gossip_chain!("")),
        overrides: &["chains[0].network.mode=\"abstract\""],
        expected: "base.toml:80:9: only a gossip network reads it (an abstract network is the chain's propagation delay): leave it out or set mode = \"gossip\" (chains[0].network.nodes)",
    },
    Case {
        name: "an unknown upload discipline",
        replace: ("[[rails]]", gossip_chain!("upload = \"lifo\"")),
        overrides: &[],
        expected: "base.toml:81:10: unknown upload \"lifo\" (\"shared\" or \"fifo\") (chains[0].network.upload)",
    },
    Case {
        name: "an unknown transaction relay",
        replace: ("[[rails]]", gossip_chain!("tx_relay = \"flood\"")),
        overrides: &[],
        expected: "base.toml:81:12: unknown tx_relay \"flood\" (\"instant\", \"trickle\" or \"poisson\") (chains[0].network.tx_relay)",
    },
    Case {
        name: "probe transactions without transaction relay",
        replace: ("[[rails]]", gossip_chain!("tx_probe_every = \"1h\"")),
        overrides: &[],
        expected: "base.toml:81:18: probes measure transaction relay: set tx_relay = \"trickle\" or \"poisson\", or leave it out (chains[0].network.tx_probe_every)",
    },
    Case {
        name: "probe transactions more often than a second",
        replace: (
            "[[rails]]",
            gossip_chain!("tx_relay = \"trickle\"\ntx_probe_every = \"10ms\""),
        ),
        overrides: &[],
        expected: "base.toml:82:18: at least 1s (chains[0].network.tx_probe_every)",
    },
    Case {
        name: "transaction relay on a proof-of-stake chain",
        replace: ("[[rails]]", gossip_chain!("tx_relay = \"poisson\"")),
        overrides: &["chains[0].consensus=\"pos\"", "chains[0].miners=[]"],
        expected: "base.toml:81:12: transactions travel over gossip on nakamoto chains only (a proof-of-stake or BFT chain keeps one mempool): leave it out (chains[0].network.tx_relay)",
    },
    Case {
        name: "an epoch rule other than Casper's over gossip",
        replace: ("[[rails]]", gossip_chain!("")),
        overrides: &[
            "chains[0].consensus=\"pos\"",
            "chains[0].miners=[]",
            "chains[0].finality_epochs=3",
        ],
        expected: "--set chains[0].finality_epochs=3: a proof-of-stake chain over gossip finalizes by Casper FFG's rule (two justified epochs in a row): leave it out or set 2 (chains[0].finality_epochs)",
    },
    Case {
        name: "a BFT message delay beside a gossip network",
        replace: ("[[rails]]", BFT_GOSSIP),
        overrides: &[],
        expected: "base.toml:72:17: a BFT chain over gossip takes its message delays from the network: leave it out (chains[0].message_delay)",
    },
    Case {
        name: "jumps that never happen",
        replace: ("[[rails]]", FX_JUMPS),
        overrides: &["fx[0].jumps.per_day=0"],
        expected: "base.toml:70:9: jumps need per_day > 0 and a size (sd_bps or mean_bps); leave the table out for none (fx[0].jumps)",
    },
    Case {
        name: "negative jump size",
        replace: ("[[rails]]", FX_JUMPS),
        overrides: &["fx[0].jumps.sd_bps=-5"],
        expected: "--set fx[0].jumps.sd_bps=-5: must be a non-negative number, got -5 (fx[0].jumps.sd_bps)",
    },
    Case {
        name: "a peg deviation of zero",
        replace: ("[[rails]]", CHAIN_RAIL),
        overrides: &["rails[0].asset_peg={ sd_bps = 0, half_life = \"1h\" }"],
        expected: "--set rails[0].asset_peg={ sd_bps = 0, half_life = \"1h\" }: must be above 0 (leave asset_peg out for an exact peg) (rails[0].asset_peg.sd_bps)",
    },
    Case {
        name: "a peg half-life beyond a year",
        replace: ("[[rails]]", CHAIN_RAIL),
        overrides: &["rails[0].asset_peg={ sd_bps = 5, half_life = \"400d\" }"],
        expected: "--set rails[0].asset_peg={ sd_bps = 5, half_life = \"400d\" }: must be between 1s and 365d (rails[0].asset_peg.half_life)",
    },
    Case {
        name: "price risk on an asset whose price never moves",
        replace: ("[[rails]]", CHAIN_RAIL),
        overrides: &["rails[0].price_risk=\"ramp\""],
        expected: "--set rails[0].price_risk=\"ramp\": COIN's price never moves, so nobody bears a price move (give it asset_daily_vol_bps, asset_jumps or asset_peg) (rails[0].price_risk)",
    },
    Case {
        name: "unknown price risk bearer",
        replace: ("[[rails]]", CHAIN_RAIL),
        overrides: &[
            "rails[0].price_risk=\"bank\"",
            "rails[0].asset_daily_vol_bps=300",
        ],
        expected: "--set rails[0].price_risk=\"bank\": unknown price risk bearer \"bank\" (\"customer\" or \"ramp\") (rails[0].price_risk)",
    },
    Case {
        name: "price risk on a correspondent rail",
        replace: ("[[rails]]", CHAIN_RAIL),
        overrides: &["rails[1].price_risk=\"customer\""],
        expected: "--set rails[1].price_risk=\"customer\": only a chain rail has this field (rails[1].price_risk)",
    },
    Case {
        name: "one asset with two price processes",
        replace: ("[[rails]]", CHAIN_RAIL),
        overrides: &[
            "rails[0].asset_daily_vol_bps=300",
            "rails[1].kind=\"chain\"",
            "rails[1].chain=\"p\"",
            "rails[1].asset=\"COIN\"",
            "rails[1].asset_price_usd=100",
            "rails[1].asset_daily_vol_bps=200",
        ],
        expected: "--set rails[1].asset=\"COIN\": COIN is given two different price processes (rails[1].asset)",
    },
];

/// A BFT chain over gossip that also sets a message delay.
const BFT_GOSSIP: &str = "[[chains]]\nid = \"b\"\nconsensus = \"bft\"\nblock_interval = \"1s\"\nvalidators = 4\n\
                          message_delay = { fixed = \"50ms\" }\nblock_capacity = 1000\ntx_units = 10\nnative = \"B\"\n\
                          native_decimals = 8\nnative_price_usd = 1\n\n[chains.network]\nmode = \"gossip\"\nnodes = 10\n\n[[rails]]";

/// A USD/MXN rate with jumps, before the rails.
const FX_JUMPS: &str =
    "[[fx]]\npair = \"USD/MXN\"\nmid = 17\njumps = { per_day = 1, sd_bps = 100 }\n\n[[rails]]";

/// A chain and a chain rail moving the asset COIN, before the correspondent rail (which becomes rails[1]).
const CHAIN_RAIL: &str = "[[chains]]\nid = \"p\"\nconsensus = \"pos\"\nblock_interval = \"12s\"\nvalidators = 10\n\
                          block_capacity = 1000\ntx_units = 10\nnative = \"P\"\nnative_decimals = 6\n\
                          native_price_usd = 1\n\n[[rails]]\nid = \"coin\"\nkind = \"chain\"\nchain = \"p\"\n\
                          asset = \"COIN\"\nasset_price_usd = 100\n\n[[rails]]";

/// A proof-of-stake chain that sets a propagation delay (line 77 of the edited fixture).
const POS_CHAIN: &str = "[[chains]]\nid = \"p\"\nconsensus = \"pos\"\nblock_interval = \"12s\"\nvalidators = 10\n\
                         block_capacity = 1000\ntx_units = 10\nnative = \"P\"\nnative_decimals = 6\n\
                         native_price_usd = 1\npropagation = { fixed = \"30s\" }\n\n[[rails]]";

/// A BFT chain after the fixture's corridor (`chains[0]`, from line 68).
const BFT_CHAIN: &str = "[[chains]]\nid = \"p\"\nconsensus = \"bft\"\nblock_interval = \"1s\"\nvalidators = 4\n\
                         block_capacity = 1000\ntx_units = 10\nnative = \"P\"\nnative_decimals = 2\n\
                         native_price_usd = 1\n\n[[rails]]";

fn check(case: &Case) -> Result<(), String> {
    let (from, to) = case.replace;
    assert!(
        from.is_empty() || common::BASE.contains(from),
        "{}: fragment not in the fixture",
        case.name
    );
    let text = common::BASE.replacen(from, to, 1);
    let overrides: Vec<String> = case.overrides.iter().map(|s| s.to_string()).collect();
    match settlesim::scenario::load("base.toml", &text, &overrides) {
        Ok(_) => Err(format!(
            "{}: loaded, expected {:?}",
            case.name, case.expected
        )),
        Err(e) => {
            let line = e.to_string();
            if line.contains('\n') {
                return Err(format!(
                    "{}: error spans several lines: {line:?}",
                    case.name
                ));
            }
            if !line.starts_with(case.expected) {
                return Err(format!(
                    "{}:\n  got      {line}\n  expected {}",
                    case.name, case.expected
                ));
            }
            Ok(())
        }
    }
}

#[test]
fn malformed_scenarios_give_one_located_line() {
    let failures: Vec<String> = CASES.iter().filter_map(|c| check(c).err()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

/// A daily top-up restores a nostro's balance but never raises it: payments larger than it never clear and block
/// the queue. Loading warns (naming the nostro), and `settlesim check` prints the warning on stderr and succeeds.
#[test]
fn payments_larger_than_a_topped_up_nostro_are_warned_about() {
    let thin = ["nostros[0].balance=1500"];
    let o: Vec<String> = thin.iter().map(|s| s.to_string()).collect();
    let loaded = settlesim::scenario::load("base.toml", common::BASE, &o).unwrap();
    assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
    let w = &loaded.warnings[0];
    assert!(
        w.starts_with("base.toml:44:11: warning: nostro a@b is topped up daily to 1,500.00 USD")
            || w.starts_with(
                "base.toml:44:11: warning: nostro a@b is topped up daily to 1500.00 USD"
            ),
        "{w}"
    );
    assert!(w.ends_with("(nostros[0].balance)"), "{w}");
    // The fixture's own nostro (1e9 USD) and a thin one without top-up (nothing restores it, nothing to warn).
    assert!(common::load(&[]).warnings.is_empty());
    assert!(
        common::load(&["nostros[0].balance=1500", "nostros[0].topup=\"none\""])
            .warnings
            .is_empty()
    );
    // A capped amount distribution cannot exceed the balance.
    assert!(
        common::load(&[
            "nostros[0].balance=1500",
            "corridors[0].amount={ median = 1000, sigma = 0.5, max = 1400 }"
        ])
        .warnings
        .is_empty()
    );

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("thin.toml");
    std::fs::write(&file, common::BASE).unwrap();
    let out = assert_cmd::Command::cargo_bin("settlesim")
        .unwrap()
        .args(["check", "--set", "nostros[0].balance=1500"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: nostro a@b is topped up daily"),
        "{stderr}"
    );
}
