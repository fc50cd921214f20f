//! The demo's task requests: LLM-style prompts made from templates and topics.

use serde::{Deserialize, Serialize};

/// One task request, as the demo sends it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TaskRequest {
    pub(crate) task_id: u64,
    pub(crate) model: String,
    pub(crate) prompt: String,
    pub(crate) max_tokens: u32,
}

const TEMPLATES: [&str; 20] = [
    "Summarise the latest research on {} in three sentences.",
    "Write a short product description for a tool that helps with {}.",
    "Explain {} to a ten-year-old.",
    "List five common misconceptions about {}.",
    "Draft a polite email asking a colleague for feedback on our {} plan.",
    "Translate this sentence into French: 'Our team is studying {}.'",
    "Give three interview questions for an expert in {}.",
    "Write a haiku about {}.",
    "Classify the sentiment of: 'I finally understand {} and it feels great.'",
    "Suggest a title for a blog post on {}.",
    "What are the main risks when a small company adopts {}?",
    "Outline a one-hour workshop introducing {}.",
    "Compare two popular approaches to {} in a short table.",
    "Extract the key terms a beginner should know about {}.",
    "Write a tweet announcing our new guide to {}.",
    "Propose a weekly study plan for learning {}.",
    "Describe a realistic failure scenario involving {} and how to recover.",
    "Answer briefly: why does {} matter in 2030?",
    "Rewrite in plain English: 'The operationalisation of {} remains non-trivial.'",
    "Generate three follow-up questions a curious reader might ask about {}.",
];

const TOPICS: [&str; 50] = [
    "solar batteries",
    "urban beekeeping",
    "compiler design",
    "sourdough baking",
    "coral reef restoration",
    "message queues",
    "tidal energy",
    "medieval trade routes",
    "sleep hygiene",
    "container shipping",
    "bird migration",
    "typography",
    "vertical farming",
    "glacier monitoring",
    "open-source licensing",
    "jazz improvisation",
    "water desalination",
    "chess openings",
    "wildfire prevention",
    "library science",
    "electric bicycles",
    "fermentation",
    "volcano forecasting",
    "accessible web design",
    "rainwater harvesting",
    "board game design",
    "protein folding",
    "public transit planning",
    "seed banks",
    "noise pollution",
    "lighthouse history",
    "composting",
    "quantum sensors",
    "urban trees",
    "language learning",
    "bridge engineering",
    "mushroom foraging",
    "ocean currents",
    "recycling plastics",
    "home insulation",
    "citizen science",
    "bicycle maintenance",
    "river cleanup",
    "data compression",
    "map projections",
    "night skies",
    "food banks",
    "wind turbines",
    "museum curation",
    "snow science",
];

const MODELS: [&str; 3] = ["demo-small", "demo-medium", "demo-large"];

/// The `index`-th request of the bundled set; beyond 1,000 the combinations repeat with new
/// task ids.
pub(crate) fn request(index: u64) -> TaskRequest {
    let combinations = (TEMPLATES.len() * TOPICS.len()) as u64;
    let combination = index % combinations;
    let template = TEMPLATES[(combination % TEMPLATES.len() as u64) as usize];
    let topic = TOPICS[(combination / TEMPLATES.len() as u64) as usize];
    TaskRequest {
        task_id: index,
        model: MODELS[(index % MODELS.len() as u64) as usize].to_owned(),
        prompt: template.replace("{}", topic),
        max_tokens: 128 << (index % 3),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn the_first_thousand_prompts_are_all_different() {
        let prompts: HashSet<String> = (0..1000).map(|i| request(i).prompt).collect();
        assert_eq!(prompts.len(), 1000);
        assert!(request(1000).prompt == request(0).prompt && request(1000).task_id == 1000);
    }
}
