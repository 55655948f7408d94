//! Container names: unique, claimed atomically as files under `containers/.names/`, and
//! generated like Docker's (`adjective_scientist`) when not given.

use std::io::Write;
use std::path::PathBuf;

use crate::error::{EngineError, IoResultExt, Result};
use crate::Engine;

// Our own lists: 121 × 165 names, so that two generated at once rarely meet (and
// a name taken is retried, never an error).
const ADJECTIVES: &[&str] = &[
    "admiring",
    "adoring",
    "agile",
    "amazing",
    "amused",
    "ardent",
    "awesome",
    "balanced",
    "blissful",
    "bold",
    "brave",
    "bright",
    "busy",
    "calm",
    "careful",
    "charming",
    "cheerful",
    "clever",
    "cool",
    "curious",
    "daring",
    "dazzling",
    "determined",
    "devoted",
    "diligent",
    "dreamy",
    "eager",
    "earnest",
    "elastic",
    "elegant",
    "eloquent",
    "epic",
    "exciting",
    "faithful",
    "fervent",
    "festive",
    "focused",
    "friendly",
    "frosty",
    "funny",
    "gallant",
    "generous",
    "gentle",
    "gifted",
    "glad",
    "gracious",
    "great",
    "happy",
    "hardy",
    "helpful",
    "heuristic",
    "hopeful",
    "humble",
    "inspiring",
    "intrepid",
    "jolly",
    "jovial",
    "keen",
    "kind",
    "laughing",
    "lively",
    "loving",
    "lucid",
    "lucky",
    "magical",
    "merry",
    "mighty",
    "modest",
    "musing",
    "mystic",
    "nervous",
    "nice",
    "nifty",
    "nimble",
    "noble",
    "optimistic",
    "patient",
    "peaceful",
    "playful",
    "polite",
    "practical",
    "priceless",
    "proud",
    "quiet",
    "quirky",
    "radiant",
    "rapid",
    "relaxed",
    "resolute",
    "romantic",
    "rustic",
    "serene",
    "sharp",
    "silly",
    "sleepy",
    "smart",
    "snappy",
    "spirited",
    "steady",
    "stoic",
    "stellar",
    "sturdy",
    "sunny",
    "swift",
    "tender",
    "thirsty",
    "thoughtful",
    "tidy",
    "trusting",
    "upbeat",
    "vibrant",
    "vigilant",
    "vigorous",
    "warm",
    "wise",
    "witty",
    "wizardly",
    "wonderful",
    "youthful",
    "zealous",
    "zen",
];
const SCIENTISTS: &[&str] = &[
    "agnesi",
    "albattani",
    "allen",
    "almeida",
    "archimedes",
    "ardinghelli",
    "aryabhata",
    "austin",
    "babbage",
    "banach",
    "bardeen",
    "bartik",
    "bassi",
    "bell",
    "benz",
    "bhabha",
    "bhaskara",
    "blackwell",
    "bohr",
    "booth",
    "borg",
    "bose",
    "boyd",
    "brahmagupta",
    "brattain",
    "brown",
    "carson",
    "cartwright",
    "chandrasekhar",
    "chaplygin",
    "chatelet",
    "chebyshev",
    "clarke",
    "cohen",
    "colden",
    "cori",
    "cray",
    "curie",
    "darwin",
    "davinci",
    "dijkstra",
    "dirac",
    "einstein",
    "elion",
    "engelbart",
    "euclid",
    "euler",
    "faraday",
    "fermat",
    "fermi",
    "feynman",
    "franklin",
    "galileo",
    "gates",
    "gauss",
    "germain",
    "goldberg",
    "goodall",
    "haibt",
    "hamilton",
    "hawking",
    "heisenberg",
    "hermann",
    "hertz",
    "hodgkin",
    "hofstadter",
    "hopper",
    "hypatia",
    "jackson",
    "jang",
    "jennings",
    "johnson",
    "joliot",
    "kalam",
    "kapitsa",
    "keller",
    "kepler",
    "khorana",
    "kilby",
    "kirch",
    "knuth",
    "kowalevski",
    "lalande",
    "lamarr",
    "lamport",
    "leakey",
    "leavitt",
    "lehmann",
    "lewin",
    "lichterman",
    "liskov",
    "lovelace",
    "lumiere",
    "mahavira",
    "mayer",
    "mccarthy",
    "mcclintock",
    "mclean",
    "meitner",
    "mendel",
    "mendeleev",
    "merkle",
    "mirzakhani",
    "moore",
    "morse",
    "napier",
    "nash",
    "neumann",
    "newton",
    "nightingale",
    "nobel",
    "noether",
    "northcutt",
    "noyce",
    "panini",
    "pare",
    "pascal",
    "pasteur",
    "payne",
    "perlman",
    "pike",
    "poincare",
    "poitras",
    "ptolemy",
    "raman",
    "ramanujan",
    "ride",
    "ritchie",
    "roentgen",
    "rosalind",
    "rubin",
    "saha",
    "sammet",
    "sanderson",
    "satoshi",
    "shamir",
    "shannon",
    "shaw",
    "shockley",
    "sinoussi",
    "snyder",
    "spence",
    "stonebraker",
    "sutherland",
    "swanson",
    "swartz",
    "tesla",
    "thompson",
    "torvalds",
    "turing",
    "varahamihira",
    "villani",
    "visvesvaraya",
    "volhard",
    "wescoff",
    "wiles",
    "williams",
    "wilson",
    "wing",
    "wozniak",
    "wright",
    "wu",
    "yalow",
    "yonath",
    "zhukovsky",
];

fn random_name() -> String {
    let mut bytes = [0u8; 4];
    let _ = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes));
    let n = u32::from_le_bytes(bytes) as usize;
    format!(
        "{}_{}",
        ADJECTIVES[n % ADJECTIVES.len()],
        SCIENTISTS[(n / ADJECTIVES.len()) % SCIENTISTS.len()]
    )
}

impl Engine {
    pub(super) fn names_dir(&self) -> PathBuf {
        self.root().join("containers/.names")
    }

    /// Claims `name` for container `id`; fails if another container has it.
    pub(crate) fn claim_name(&self, name: &str, id: &str) -> Result<()> {
        let dir = self.names_dir();
        std::fs::create_dir_all(&dir).at("create directory", &dir)?;
        let path = dir.join(name);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            // Not synced: the record written after it is, and names its container when a
            // power cut empties this file (see `id_by_name`).
            Ok(mut file) => file.write_all(id.as_bytes()).at("write", &path),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Err(EngineError::NameInUse {
                    name: name.to_string(),
                    id: std::fs::read_to_string(&path).unwrap_or_default(),
                })
            }
            Err(e) => Err(e).at("create", &path),
        }
    }

    /// Claims a generated name for container `id`, as Docker: another name while one is
    /// taken, then with a digit added.
    pub(crate) fn claim_random_name(&self, id: &str) -> Result<String> {
        const ATTEMPTS: u32 = 100;
        let mut attempt = 0;
        loop {
            let mut name = random_name();
            if attempt >= ATTEMPTS / 2 {
                name.push_str(&(attempt % 10).to_string());
            }
            match self.claim_name(&name, id) {
                Err(EngineError::NameInUse { .. }) if attempt + 1 < ATTEMPTS => attempt += 1,
                claimed => return claimed.map(|()| name),
            }
        }
    }

    pub(crate) fn release_name(&self, name: &str) {
        let _ = std::fs::remove_file(self.names_dir().join(name));
    }

    /// The id of the container called `name`, if any.
    pub(crate) fn id_by_name(&self, name: &str) -> Option<String> {
        let name = name.strip_prefix('/').unwrap_or(name);
        if name.is_empty() || name.contains('/') || name.starts_with('.') {
            return None;
        }
        let path = self.names_dir().join(name);
        let claimed = std::fs::read_to_string(&path).ok()?;
        if !claimed.is_empty() {
            return Some(claimed);
        }
        // Empty: being claimed right now, or a power cut lost what was written. The records
        // say which container has the name; the claim is written again.
        let id = self
            .list_containers()
            .ok()?
            .into_iter()
            .find(|c| c.record.name == name)?
            .record
            .id;
        let _ = std::fs::write(&path, &id);
        Some(id)
    }
}
