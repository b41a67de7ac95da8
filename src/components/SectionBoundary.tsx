import { ButtonItem, PanelSection, PanelSectionRow } from "@decky/ui";
import { Component, type ErrorInfo, type ReactNode } from "react";

interface Props {
  /** The section's title, shown above the error. */
  title: string;
  children: ReactNode;
}

interface State {
  error: Error | null;
}

/**
 * Keeps one section's rendering failure (an unexpected reply shape, a bug) inside that
 * section: the rest of the panel stays usable, and the section says what broke and can be
 * tried again.
 */
export class SectionBoundary extends Component<Props, State> {
  state: State = { error: null };

  static getDerivedStateFromError(error: Error): State {
    return { error };
  }

  componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error(`RomDeck: the ${this.props.title} section failed`, error, info.componentStack);
  }

  render(): ReactNode {
    const { error } = this.state;
    if (error === null) return this.props.children;
    return (
      <PanelSection title={this.props.title}>
        <PanelSectionRow>
          <div role="alert">This section could not be shown: {error.message}</div>
        </PanelSectionRow>
        <PanelSectionRow>
          <ButtonItem layout="below" onClick={() => this.setState({ error: null })}>
            Try again
          </ButtonItem>
        </PanelSectionRow>
      </PanelSection>
    );
  }
}
