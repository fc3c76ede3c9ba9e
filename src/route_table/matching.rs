//! Finding the route of a request, and the facts of a path that hold before anything is known
//! about the request (its error style and CORS, needed even when the request cannot be parsed).

use super::{ErrorStyle, Method, PathPattern, Route, Site, ROUTES};

/// A request's route and the values of the route's `{name}` segments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match<'p> {
    pub route: &'static Route,
    pub params: Params<'p>,
}

/// The `{name}` segments of a matched path, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params<'p>(Vec<(&'static str, &'p str)>);

impl<'p> Params<'p> {
    /// The segment named `name`. The dispatcher asks only for names its route's pattern has
    /// (the table test checks the patterns); an unknown name yields "", which finds nothing.
    pub fn get(&self, name: &str) -> &'p str {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
            .unwrap_or_default()
    }
}

/// What the table answers for a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup<'p> {
    Found(Match<'p>),
    /// `OPTIONS` at a CORS route's path: the CORS preflight.
    Preflight,
    /// No route serves this method and path on this host (see [`super::fallback`]).
    NotFound,
}

/// The route serving `method` and `path` on `site`.
pub fn match_route<'p>(site: Site, method: Method, path: &'p str) -> Lookup<'p> {
    let mut preflight = false;
    for route in ROUTES.iter().filter(|r| r.site.serves(site)) {
        let Some(params) = match_path(route.path, path) else {
            continue;
        };
        if route.methods.contains(&method) {
            return Lookup::Found(Match { route, params });
        }
        preflight |= method == Method::Options && route.cors;
    }
    if preflight {
        Lookup::Preflight
    } else {
        Lookup::NotFound
    }
}

/// What holds for a path on any host and with any method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathFacts {
    pub errors: ErrorStyle,
    /// CORS headers go on every response at this path, errors and 404s included, so a browser
    /// app can read the OAuth error.
    pub cors: bool,
}

/// The error style and CORS of a path, from the routes at that path (they agree: a test checks
/// it) or, for a path no route serves, from the area it falls in.
pub fn path_facts(path: &str) -> PathFacts {
    match ROUTES.iter().find(|r| match_path(r.path, path).is_some()) {
        Some(route) => PathFacts {
            errors: route.errors,
            cors: route.cors,
        },
        None => PathFacts {
            errors: super::areas::style_of_unserved(path),
            cors: false,
        },
    }
}

/// The parameters of `path` if `pattern` matches it.
pub(super) fn match_path<'p>(pattern: PathPattern, path: &'p str) -> Option<Params<'p>> {
    let mut wanted = pattern.as_str().split('/');
    let mut given = path.split('/');
    let mut params = Vec::new();
    loop {
        match (wanted.next(), given.next()) {
            (None, None) => return Some(Params(params)),
            (Some(w), Some(g)) => match w.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
                Some(name) if !g.is_empty() => params.push((name, g)),
                Some(_) => return None,
                None if w == g => {}
                None => return None,
            },
            _ => return None,
        }
    }
}
