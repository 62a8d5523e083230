//! The category hierarchy of one site, for navigation and breadcrumbs.

use tessera_core::{CategoryId, Language};
use tessera_store::{Category, CategoryName};

/// Deeper nesting than this is refused when creating, and cut when walking,
/// so a corrupt parent loop cannot hang a page.
pub const MAX_DEPTH: usize = 8;

#[derive(Clone, Debug, Default)]
pub struct CategoryTree {
    categories: Vec<Category>,
}

impl CategoryTree {
    /// `categories` as the store lists them (ordered by parent and position).
    pub fn new(categories: Vec<Category>) -> Self {
        Self { categories }
    }

    pub fn get(&self, id: CategoryId) -> Option<&Category> {
        self.categories.iter().find(|c| c.id == id)
    }

    /// Direct children of `parent` (top-level categories for `None`), in order.
    pub fn children(&self, parent: Option<CategoryId>) -> impl Iterator<Item = &Category> {
        self.categories.iter().filter(move |c| c.parent_id == parent)
    }

    /// From the top-level category down to `id` itself.
    pub fn trail(&self, id: CategoryId) -> Vec<&Category> {
        let mut trail = Vec::new();
        let mut next = self.get(id);
        while let Some(c) = next {
            if trail.len() == MAX_DEPTH {
                break;
            }
            trail.push(c);
            next = c.parent_id.and_then(|p| self.get(p));
        }
        trail.reverse();
        trail
    }

    /// `id` and every category below it.
    pub fn subtree(&self, id: CategoryId) -> Vec<CategoryId> {
        let mut out = vec![id];
        let mut i = 0;
        while i < out.len() {
            let parent = out[i];
            for child in self.children(Some(parent)) {
                if !out.contains(&child.id) {
                    out.push(child.id);
                }
            }
            i += 1;
        }
        out
    }

    pub fn iter(&self) -> impl Iterator<Item = &Category> {
        self.categories.iter()
    }
}

/// The category's name in `wanted`, else in `default`, else the first one.
pub fn name_in<'a>(category: &'a Category, wanted: &Language, default: &Language) -> Option<&'a CategoryName> {
    let find = |l: &Language| category.names.iter().find(|n| &n.language == l);
    find(wanted).or_else(|| find(default)).or_else(|| category.names.first())
}

#[cfg(test)]
mod tests {
    use tessera_core::SiteId;

    use super::*;

    fn cat(id: i64, parent: Option<i64>, name: &str) -> Category {
        Category {
            id: CategoryId::new(id),
            site_id: SiteId::DEFAULT,
            parent_id: parent.map(CategoryId::new),
            position: 0,
            names: vec![CategoryName {
                language: Language::parse("en").expect("en"),
                name: name.into(),
                description: String::new(),
            }],
        }
    }

    #[test]
    fn trail_runs_from_the_top_down_and_survives_a_loop() {
        let tree = CategoryTree::new(vec![cat(1, None, "Getting Started"), cat(2, Some(1), "General")]);
        let names: Vec<_> = tree.trail(CategoryId::new(2)).iter().map(|c| c.names[0].name.as_str()).collect();
        assert_eq!(names, ["Getting Started", "General"]);
        let looped = CategoryTree::new(vec![cat(1, Some(2), "a"), cat(2, Some(1), "b")]);
        assert_eq!(looped.trail(CategoryId::new(1)).len(), MAX_DEPTH);
        assert_eq!(tree.subtree(CategoryId::new(1)), [CategoryId::new(1), CategoryId::new(2)]);
    }

    #[test]
    fn names_fall_back_to_the_default_language() {
        let c = cat(1, None, "General");
        let fr = Language::parse("fr").expect("fr");
        let en = Language::parse("en").expect("en");
        assert_eq!(name_in(&c, &fr, &en).map(|n| n.name.as_str()), Some("General"));
    }
}
