use dagr::prelude::*;

#[delayed]
async fn fetch(url: String) -> String {
    url
}

fn main() {}
