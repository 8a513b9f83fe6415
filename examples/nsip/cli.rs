//! The pieces every `nsip` command shares: the word reader, the failure
//! type, the context (socket, options) and output.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use nslink::{IpNet, Link, RouteSocket};
use serde_json::{Map, Value};

/// Why a command stops.
#[derive(Debug)]
pub enum Fail {
    /// Bad syntax: printed with the usage, exit code 2.
    Usage(String),
    /// An error of nslink (the kernel's refusal and its message): exit 1.
    Op(nslink::Error),
    /// Another error (a missing device named in a filter…): exit 1.
    Msg(String),
}

impl From<nslink::Error> for Fail {
    fn from(e: nslink::Error) -> Fail {
        Fail::Op(e)
    }
}

impl fmt::Display for Fail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fail::Usage(m) | Fail::Msg(m) => f.write_str(m),
            Fail::Op(e) => write!(f, "{e}"),
        }
    }
}

pub type Res<T = ()> = Result<T, Fail>;

/// A usage failure.
pub fn usage<T>(msg: impl Into<String>) -> Res<T> {
    Err(Fail::Usage(msg.into()))
}

/// The command line words after the object, read left to right.
pub struct Words {
    words: Vec<String>,
    at: usize,
}

impl Words {
    pub fn new(words: Vec<String>) -> Words {
        Words { words, at: 0 }
    }

    /// The next word, consumed.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Option<String> {
        let w = self.words.get(self.at).cloned();
        if w.is_some() {
            self.at += 1;
        }
        w
    }

    /// The next word, not consumed.
    pub fn peek(&self) -> Option<&str> {
        self.words.get(self.at).map(String::as_str)
    }

    /// The value after keyword `key`.
    pub fn value(&mut self, key: &str) -> Res<String> {
        match self.next() {
            Some(v) => Ok(v),
            None => usage(format!("\"{key}\" needs a value")),
        }
    }

    /// The value after keyword `key`, parsed.
    pub fn parse<T: FromStr>(&mut self, key: &str) -> Res<T>
    where
        T::Err: fmt::Display,
    {
        let v = self.value(key)?;
        parse_word(key, &v)
    }

    /// Fails unless every word was used.
    pub fn end(&self) -> Res {
        match self.peek() {
            None => Ok(()),
            Some(w) => usage(format!("unexpected \"{w}\"")),
        }
    }
}

/// Parses one word given for `key`.
pub fn parse_word<T: FromStr>(key: &str, v: &str) -> Res<T>
where
    T::Err: fmt::Display,
{
    v.parse().or_else(|e| usage(format!("invalid {key} \"{v}\": {e}")))
}

/// A number as `ip` takes it: decimal or `0x` hexadecimal.
pub fn parse_num<T: TryFrom<u64>>(key: &str, v: &str) -> Res<T> {
    let n = match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => v.parse::<u64>().ok(),
    };
    match n.and_then(|n| T::try_from(n).ok()) {
        Some(n) => Ok(n),
        None => usage(format!("invalid {key} \"{v}\"")),
    }
}

/// A prefix as `ip` takes it: `ADDR/LEN`, a bare address (a host prefix)
/// or `default` (`family` decides which default).
pub fn parse_prefix(key: &str, v: &str, family: Option<Family>) -> Res<IpNet> {
    if v == "default" || v == "all" || v == "any" {
        let any: IpAddr = match family {
            Some(Family::V6) => "::".parse().map_err(|_| Fail::Msg("::".into()))?,
            _ => "0.0.0.0".parse().map_err(|_| Fail::Msg("0.0.0.0".into()))?,
        };
        return Ok(IpNet::default_for(any));
    }
    if v.contains('/') {
        return parse_word(key, v);
    }
    let a: IpAddr = parse_word(key, v)?;
    Ok(IpNet::host(a))
}

/// `-4` / `-6`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    V4,
    V6,
}

/// What every command gets: the socket, the namespace and the options.
pub struct Ctx {
    pub nl: RouteSocket,
    pub json: bool,
    pub details: bool,
    pub family: Option<Family>,
}

impl Ctx {
    /// Every device, for names and indexes.
    pub fn links(&self) -> Res<Vec<Link>> {
        Ok(self.nl.links()?)
    }

    /// Prints `rows` as one JSON array, or each with `text`.
    pub fn print(&self, rows: &[Value], text: impl Fn(&Map<String, Value>) -> String) {
        if self.json {
            println!("{}", Value::Array(rows.to_vec()));
        } else {
            for r in rows {
                if let Value::Object(m) = r {
                    println!("{}", text(m));
                }
            }
        }
    }
}

/// The name of device `index` among `links`, else `ifN` like `ip`.
pub fn name_of(links: &[Link], index: u32) -> String {
    links
        .iter()
        .find(|l| l.index() == index)
        .map(|l| l.name().to_string())
        .unwrap_or_else(|| format!("if{index}"))
}

/// Finds a device by name among `links`, failing like `ip` does.
pub fn find<'a>(links: &'a [Link], name: &str) -> Res<&'a Link> {
    links
        .iter()
        .find(|l| l.name().as_bytes() == name.as_bytes())
        .ok_or_else(|| Fail::Msg(format!("Cannot find device \"{name}\"")))
}

/// A JSON object built field by field, in order.
#[derive(Default)]
pub struct Obj(pub Map<String, Value>);

impl Obj {
    pub fn new() -> Obj {
        Obj(Map::new())
    }

    pub fn set(&mut self, key: &str, v: impl Into<Value>) -> &mut Obj {
        self.0.insert(key.to_owned(), v.into());
        self
    }

    pub fn opt(&mut self, key: &str, v: Option<impl Into<Value>>) -> &mut Obj {
        if let Some(v) = v {
            self.set(key, v);
        }
        self
    }

    pub fn done(&mut self) -> Value {
        Value::Object(std::mem::take(&mut self.0))
    }
}

/// Text of a JSON scalar for the plain output.
pub fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `key value` pairs of `m` for `keys`, skipping absent ones; a `null`
/// value prints the key alone (flags such as `not`).
pub fn pairs(m: &Map<String, Value>, keys: &[(&str, &str)]) -> String {
    let mut out = Vec::new();
    for (key, word) in keys {
        match m.get(*key) {
            None => {}
            Some(Value::Null) | Some(Value::Bool(true)) => out.push((*word).to_owned()),
            Some(Value::Bool(false)) => {}
            Some(Value::Array(a)) => {
                let items: Vec<String> = a.iter().map(text).collect();
                if !items.is_empty() {
                    if word.is_empty() {
                        out.push(items.join(" "));
                    } else {
                        out.push(format!("{word} {}", items.join(" ")));
                    }
                }
            }
            Some(v) if word.is_empty() => out.push(text(v)),
            Some(v) => out.push(format!("{word} {}", text(v))),
        }
    }
    out.join(" ")
}
